{{/*
winnow.autoscaled: "true" when an autoscaler (KEDA ScaledObject or HPA) owns the replica count.
Usage: include "winnow.autoscaled" $svc
*/}}
{{- define "winnow.autoscaled" -}}
{{- if and .autoscaling .autoscaling.enabled -}}true{{- end -}}
{{- end -}}

{{/*
winnow.gpuEnabled: "true" when the service runs on a GPU. Usage: include "winnow.gpuEnabled" $svc
*/}}
{{- define "winnow.gpuEnabled" -}}
{{- if and .gpu .gpu.enabled -}}true{{- end -}}
{{- end -}}

{{/*
winnow.deployment: the Deployment of one service (`winnow <args>`), shared by every block under
`.Values.services`.
Usage: include "winnow.deployment" (dict "root" $ "name" "scorer" "svc" $svc)
*/}}
{{- define "winnow.deployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $svc := .svc -}}
{{- $name := .name -}}
{{- $gpu := include "winnow.gpuEnabled" $svc -}}
{{- $ctx := dict "root" $root "component" $name -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "winnow.componentName" $ctx }}
  namespace: {{ $root.Release.Namespace | quote }}
  labels:
    {{- include "winnow.componentLabels" $ctx | nindent 4 }}
  {{- with include "winnow.annotations" $root }}{{ . | nindent 2 }}{{- end }}
spec:
  {{- if not (include "winnow.autoscaled" $svc) }}
  replicas: {{ $svc.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ $v.revisionHistoryLimit }}
  selector:
    matchLabels:
      {{- include "winnow.componentSelectorLabels" $ctx | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      {{- if $gpu }}
      # A GPU node rarely has a spare GPU for a surge pod: replace in place.
      maxSurge: 0
      maxUnavailable: 1
      {{- else }}
      maxSurge: 1
      maxUnavailable: 0
      {{- end }}
  template:
    metadata:
      labels:
        {{- include "winnow.componentSelectorLabels" $ctx | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "winnow.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $v.serviceAccount.automountServiceAccountToken }}
      {{- with include "winnow.imagePullSecrets" $root }}{{ . | nindent 6 }}{{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- if and $gpu $svc.gpu.runtimeClassName }}
      runtimeClassName: {{ $svc.gpu.runtimeClassName }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- $gpuNodeSelector := dict }}
      {{- $gpuTolerations := list }}
      {{- if $gpu }}
      {{- $gpuNodeSelector = dig "gpu" "nodeSelector" dict $svc }}
      {{- $gpuTolerations = dig "gpu" "tolerations" list $svc }}
      {{- end }}
      {{- $nodeSelector := merge (dict) (default dict $svc.nodeSelector) $gpuNodeSelector $v.nodeSelector }}
      {{- with $nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- $tolerations := concat $v.tolerations (default list $svc.tolerations) $gpuTolerations }}
      {{- with $tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with (default $v.affinity $svc.affinity) }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- range . }}
        - {{ toYaml (merge (dict) . (dict "labelSelector" (dict "matchLabels" (include "winnow.componentSelectorLabels" $ctx | fromYaml)))) | nindent 10 | trim }}
        {{- end }}
      {{- end }}
      {{- if and $svc.models (eq $v.models.source "url") }}
      initContainers:
        - name: fetch-models
          {{- $ii := $v.models.init.image }}
          {{- if $ii.repository }}
          image: {{ printf "%s%s:%s" (ternary (printf "%s/" $ii.registry) "" (not (empty $ii.registry))) $ii.repository (required "models.init.image.tag is required with models.init.image.repository" $ii.tag) | quote }}
          {{- else }}
          image: {{ include "winnow.image" (dict "root" $root "gpu" false) | quote }}
          {{- end }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          {{- if $v.models.init.command }}
          command:
            {{- toYaml $v.models.init.command | nindent 12 }}
          {{- else }}
          command:
            - python
            - -c
            - |
              import hashlib, os, sys, tarfile, urllib.request
              url, want, dest = os.environ["MODELS_URL"], os.environ["MODELS_SHA256"], "/models"
              path, _ = urllib.request.urlretrieve(url, "/tmp/models.tar.gz")
              digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
              if want and digest != want:
                  sys.exit(f"models artefact sha256 {digest} != expected {want}")
              with tarfile.open(path) as tar:
                  tar.extractall(dest, filter="data")
              os.remove(path)
              print(f"models {digest} extracted to {dest}: {sorted(os.listdir(dest))}")
          {{- end }}
          env:
            - name: MODELS_URL
              value: {{ required "models.url is required when models.source is url" $v.models.url | quote }}
            - name: MODELS_SHA256
              value: {{ $v.models.sha256 | quote }}
          securityContext:
            {{- toYaml $v.containerSecurityContext | nindent 12 }}
          resources:
            {{- toYaml $v.models.init.resources | nindent 12 }}
          volumeMounts:
            - name: models
              mountPath: /models
            - name: tmp
              mountPath: /tmp
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ include "winnow.image" (dict "root" $root "gpu" (not (empty $gpu))) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args:
            {{- toYaml $svc.args | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $svc.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "winnow.fullname" $root }}
            {{- with $v.extraEnvFrom }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          env:
            - name: WINNOW_WEB_PORT
              value: {{ $svc.port | quote }}
            {{- if $svc.models }}
            - name: WINNOW_MODELS_DIR
              value: {{ ternary $v.models.imagePath "/models" (eq $v.models.source "image") | quote }}
            - name: WINNOW_ORT_PROVIDERS
              value: {{ toJson (ternary (dig "gpu" "ortProviders" list $svc) (default (list "CPUExecutionProvider") $svc.ortProviders) (not (empty $gpu))) | quote }}
            {{- end }}
            {{- if and $gpu (hasKey $svc.gpu "workers") }}
            - name: WINNOW_SCORER_WORKERS
              value: {{ $svc.gpu.workers | quote }}
            - name: WINNOW_BATCH_MAX
              value: {{ $svc.gpu.batchMax | quote }}
            - name: WINNOW_BATCH_WAIT_S
              value: {{ $svc.gpu.batchWaitSeconds | quote }}
            - name: WINNOW_SCORE_BATCH_MAX
              value: {{ $svc.gpu.scoreBatchMax | quote }}
            {{- end }}
            {{- if $svc.snapshots }}
            - name: WINNOW_SNAPSHOT_URL
              value: {{ default "file:///snapshots" $v.snapshots.url | quote }}
            {{- with $v.snapshots.storageOptions }}
            - name: WINNOW_SNAPSHOT_STORAGE_OPTIONS
              value: {{ toJson . | quote }}
            {{- end }}
            {{- end }}
            {{- include "winnow.secretEnv" (dict "root" $root "component" $name "database" $svc.database) | nindent 12 }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $svc.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- if $v.startupProbe.enabled }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $v.startupProbe.periodSeconds }}
            failureThreshold: {{ $v.startupProbe.failureThreshold }}
          {{- end }}
          {{- if $v.livenessProbe.enabled }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $v.livenessProbe.periodSeconds }}
            timeoutSeconds: {{ $v.livenessProbe.timeoutSeconds }}
            failureThreshold: {{ $v.livenessProbe.failureThreshold }}
          {{- end }}
          {{- if $v.readinessProbe.enabled }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ $v.readinessProbe.periodSeconds }}
            timeoutSeconds: {{ $v.readinessProbe.timeoutSeconds }}
            failureThreshold: {{ $v.readinessProbe.failureThreshold }}
          {{- end }}
          securityContext:
            {{- toYaml $v.containerSecurityContext | nindent 12 }}
          {{- $resources := deepCopy (default dict $svc.resources) }}
          {{- if $gpu }}
          {{- $limits := default dict $resources.limits }}
          {{- $_ := set $limits $svc.gpu.resourceName (int $svc.gpu.count) }}
          {{- $_ = set $resources "limits" $limits }}
          {{- end }}
          resources:
            {{- toYaml $resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: data
              mountPath: /data
            {{- if and $svc.snapshots (not $v.snapshots.url) }}
            - name: snapshots
              mountPath: /snapshots
            {{- end }}
            {{- if and $svc.models (ne $v.models.source "image") }}
            - name: models
              mountPath: /models
              readOnly: true
              {{- if and (eq $v.models.source "pvc") $v.models.subPath }}
              subPath: {{ $v.models.subPath }}
              {{- end }}
            {{- end }}
            {{- with include "winnow.kafkaVolumeMounts" $root }}{{ . | nindent 12 }}{{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $v.tmpSizeLimit }}
        - name: data
          emptyDir:
            sizeLimit: {{ $v.dataSizeLimit }}
        {{- if and $svc.snapshots (not $v.snapshots.url) }}
        - name: snapshots
          {{- if $v.snapshots.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ include "winnow.snapshotsClaim" $root }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- end }}
        {{- if and $svc.models (eq $v.models.source "url") }}
        - name: models
          emptyDir:
            sizeLimit: {{ $v.models.sizeLimit }}
        {{- else if and $svc.models (eq $v.models.source "pvc") }}
        - name: models
          persistentVolumeClaim:
            claimName: {{ required "models.existingClaim is required when models.source is pvc" $v.models.existingClaim }}
            readOnly: true
        {{- end }}
        {{- with include "winnow.kafkaVolumes" $root }}{{ . | nindent 8 }}{{- end }}
{{- end -}}
