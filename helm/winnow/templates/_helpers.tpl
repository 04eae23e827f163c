{{/*
winnow.name: the chart name (or nameOverride), cut to 63 characters (the DNS label limit).
*/}}
{{- define "winnow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
winnow.fullname: `<release>-<chart>` (or fullnameOverride), cut to 63 characters; the release
name alone when it already contains the chart name.
*/}}
{{- define "winnow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
winnow.componentName: the full name of one component (`<fullname>-<component>`), cut so the whole
name stays within 63 characters and the component suffix survives.
Usage: include "winnow.componentName" (dict "root" $ "component" "scorer")
*/}}
{{- define "winnow.componentName" -}}
{{- $suffix := printf "-%s" .component -}}
{{- $prefix := include "winnow.fullname" .root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-" -}}
{{- printf "%s%s" $prefix $suffix -}}
{{- end -}}

{{/*
winnow.chart: `<chart>-<version>` for the helm.sh/chart label.
*/}}
{{- define "winnow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
winnow.selectorLabels: the labels that select the release's pods (immutable in Deployments).
*/}}
{{- define "winnow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "winnow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
winnow.labels: the standard labels of every object, plus commonLabels.
*/}}
{{- define "winnow.labels" -}}
helm.sh/chart: {{ include "winnow.chart" . }}
{{ include "winnow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: winnow
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
winnow.componentSelectorLabels: selector labels of one component.
Usage: include "winnow.componentSelectorLabels" (dict "root" $ "component" "scorer")
*/}}
{{- define "winnow.componentSelectorLabels" -}}
{{ include "winnow.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
winnow.componentLabels: standard labels of one component.
Usage: include "winnow.componentLabels" (dict "root" $ "component" "scorer")
*/}}
{{- define "winnow.componentLabels" -}}
{{ include "winnow.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
winnow.annotations: commonAnnotations as a `metadata.annotations` block, or nothing.
*/}}
{{- define "winnow.annotations" -}}
{{- with .Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
winnow.serviceAccountName: the ServiceAccount the pods run as.
*/}}
{{- define "winnow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "winnow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
winnow.image: the image reference. The CPU image uses image.digest when set, else image.tag or the
chart's appVersion; the GPU image uses image.gpuTag, else `<tag>-gpu`.
Usage: include "winnow.image" (dict "root" $ "gpu" false)
*/}}
{{- define "winnow.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := $img.repository -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" $img.registry $img.repository -}}{{- end -}}
{{- $tag := default .root.Chart.AppVersion $img.tag | toString -}}
{{- if .gpu -}}
{{- printf "%s:%s" $repo (default (printf "%s-gpu" $tag) $img.gpuTag) -}}
{{- else if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/*
winnow.imagePullSecrets: the pod's imagePullSecrets block, or nothing.
*/}}
{{- define "winnow.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
winnow.topic: a full topic name from its suffix. Usage: include "winnow.topic" (list $ "candidates")
*/}}
{{- define "winnow.topic" -}}
{{- printf "%s.%s" (index . 0).Values.topics.prefix (index . 1) -}}
{{- end -}}

{{/*
winnow.allTopics: every topic suffix (sources first), one per line.
*/}}
{{- define "winnow.allTopics" -}}
{{- range .Values.topics.sources }}
sources.{{ . }}
{{- end }}
{{- range .Values.topics.pipeline }}
{{ . }}
{{- end }}
{{- end -}}

{{/*
winnow.settingValue: a settings value as a ConfigMap string: strings as they are, everything else
(numbers, booleans, lists, maps) as JSON, which pydantic-settings parses.
*/}}
{{- define "winnow.settingValue" -}}
{{- if kindIs "string" . -}}{{- . -}}{{- else -}}{{- toJson . -}}{{- end -}}
{{- end -}}

{{/*
winnow.settings: every WINNOW_* setting of the ConfigMap as a map (env name -> string). The
chart's own blocks (kafka, topics) go first; the free `config` map (camelCase keys turned into
WINNOW_UPPER_SNAKE) wins over them.
*/}}
{{- define "winnow.settings" -}}
{{- $s := dict -}}
{{- $_ := set $s "WINNOW_KAFKA_BOOTSTRAP" .Values.kafka.bootstrapServers -}}
{{- $_ = set $s "WINNOW_KAFKA_IDEMPOTENCE" (toJson .Values.kafka.idempotence) -}}
{{- $_ = set $s "WINNOW_KAFKA_SECURITY_PROTOCOL" .Values.kafka.security.protocol -}}
{{- if hasPrefix "SASL_" .Values.kafka.security.protocol }}
{{- $_ = set $s "WINNOW_KAFKA_SASL_MECHANISM" .Values.kafka.sasl.mechanism -}}
{{- if and .Values.kafka.sasl.username (not .Values.kafka.sasl.existingSecretUsernameKey) }}
{{- $_ = set $s "WINNOW_KAFKA_SASL_USERNAME" .Values.kafka.sasl.username -}}
{{- end }}
{{- end }}
{{- $_ = set $s "WINNOW_TOPIC_PREFIX" .Values.topics.prefix -}}
{{- $_ = set $s "WINNOW_TOPIC_PARTITIONS" (toJson .Values.topics.partitions) -}}
{{- $_ = set $s "WINNOW_TOPIC_REPLICATION" (toJson .Values.topics.replicationFactor) -}}
{{- $_ = set $s "WINNOW_SOURCE_TOPICS" (toJson .Values.topics.sources) -}}
{{- $_ = set $s "WINNOW_DATA_DIR" "/data" -}}
{{- $_ = set $s "WINNOW_DLQ_RETENTION_DAYS" (toJson .Values.deadLetters.retentionDays) -}}
{{- /* One migration point per release: the hook Job, not each curator replica at start. */ -}}
{{- $_ = set $s "WINNOW_DB_AUTO_MIGRATE" (toJson (not .Values.migrations.enabled)) -}}
{{- $_ = set $s "WINNOW_WEB_HOST" "0.0.0.0" -}}
{{- /* Every service must agree: the scorer keys the scored topic by it, the curator locks. */ -}}
{{- $_ = set $s "WINNOW_DEDUP_SHARED" (ternary "on" "off" (.Values.services.curator.sharedDedup | default false)) -}}
{{- range $key, $value := .Values.config }}
{{- $_ = set $s (printf "WINNOW_%s" (snakecase $key | upper)) (include "winnow.settingValue" $value) -}}
{{- end }}
{{- toYaml $s -}}
{{- end -}}

{{/*
winnow.kafkaTlsEnabled: "true" when the Kafka protocol uses TLS.
*/}}
{{- define "winnow.kafkaTlsEnabled" -}}
{{- if has .Values.kafka.security.protocol (list "SSL" "SASL_SSL") -}}true{{- end -}}
{{- end -}}

{{/*
winnow.secretEnv: env entries that come from existing Secrets or the pod, for one component.
Usage: include "winnow.secretEnv" (dict "root" $ "component" "curator" "database" true)
*/}}
{{- define "winnow.secretEnv" -}}
{{- $v := .root.Values -}}
- name: ORT_DISABLE_TELEMETRY
  value: "1"
{{- if .database }}
{{- /* A service with a login of its own (a restricted role) never gets the owner's. */ -}}
{{- $login := get (default dict $v.database.serviceLogins) .component }}
{{- if empty $login }}{{ $login = dict }}{{ end }}
{{- if $v.database.external.host }}
{{- $e := $v.database.external }}
{{- $user := $e.username }}
{{- $secret := $e.existingSecret }}
{{- $key := $e.existingSecretPasswordKey }}
{{- $what := "database.external.existingSecret" }}
{{- if $login }}
{{- $user = $login.username }}
{{- $secret = $login.existingSecret }}
{{- $key = $login.existingSecretPasswordKey }}
{{- $what = printf "database.serviceLogins.%s.existingSecret" .component }}
{{- end }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s is required with database.external.host" $what) $secret }}
      key: {{ $key }}
- name: WINNOW_DATABASE_URL
  value: {{ printf "postgresql+psycopg://%s@%s:%d/%s?sslmode=%s" $user $e.host (int $e.port) $e.database $e.sslmode | quote }}
{{- else }}
{{- $secret := $v.database.existingSecret }}
{{- $key := $v.database.existingSecretKey }}
{{- if $login }}
{{- $secret = $login.existingSecret }}
{{- $key = $login.existingSecretKey }}
{{- end }}
- name: WINNOW_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "database.existingSecret (or database.serviceLogins.%s, or database.external.host) is required" .component) $secret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- if and (hasPrefix "SASL_" $v.kafka.security.protocol) $v.kafka.sasl.existingSecret $v.kafka.sasl.existingSecretUsernameKey }}
- name: WINNOW_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.existingSecretUsernameKey }}
{{- end }}
{{- if and (hasPrefix "SASL_" $v.kafka.security.protocol) $v.kafka.sasl.existingSecret }}
- name: WINNOW_KAFKA_SASL_PASSWORD_FILE
  value: /etc/winnow/kafka-sasl/password
{{- end }}
{{- if include "winnow.kafkaTlsEnabled" .root }}
{{- if $v.kafka.tls.caSecret }}
- name: WINNOW_KAFKA_SSL_CAFILE
  value: /etc/winnow/kafka-tls/ca.crt
{{- end }}
{{- if $v.kafka.tls.clientSecret }}
- name: WINNOW_KAFKA_SSL_CERTFILE
  value: /etc/winnow/kafka-tls/tls.crt
- name: WINNOW_KAFKA_SSL_KEYFILE
  value: /etc/winnow/kafka-tls/tls.key
{{- end }}
{{- end }}
{{- /* Only the validator seals dead letters and hashes the identifiers it removes. */ -}}
{{- if and (eq .component "validator") $v.privacy.dlqKey.existingSecret }}
- name: WINNOW_DLQ_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.privacy.dlqKey.existingSecret }}
      key: {{ $v.privacy.dlqKey.existingSecretKey }}
{{- end }}
{{- if and (eq .component "validator") $v.privacy.subjectKey.existingSecret }}
- name: WINNOW_PII_SUBJECT_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.privacy.subjectKey.existingSecret }}
      key: {{ $v.privacy.subjectKey.existingSecretKey }}
{{- end }}
{{- if and $v.apiKeyPepper.existingSecret (has .component $v.apiKeyPepper.services) }}
- name: WINNOW_API_KEY_PEPPER
  valueFrom:
    secretKeyRef:
      name: {{ $v.apiKeyPepper.existingSecret }}
      key: {{ $v.apiKeyPepper.existingSecretKey }}
{{- end }}
{{- end -}}

{{/*
winnow.kafkaVolumes: volumes with the Kafka SASL password and TLS files, or nothing.
*/}}
{{- define "winnow.kafkaVolumes" -}}
{{- $v := .Values -}}
{{- if and (hasPrefix "SASL_" $v.kafka.security.protocol) $v.kafka.sasl.existingSecret }}
- name: kafka-sasl
  secret:
    secretName: {{ $v.kafka.sasl.existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ $v.kafka.sasl.existingSecretPasswordKey }}
        path: password
{{- end }}
{{- if and (include "winnow.kafkaTlsEnabled" .) (or $v.kafka.tls.caSecret $v.kafka.tls.clientSecret) }}
- name: kafka-tls
  projected:
    defaultMode: 0440
    sources:
      {{- if $v.kafka.tls.caSecret }}
      - secret:
          name: {{ $v.kafka.tls.caSecret }}
          items:
            - key: {{ $v.kafka.tls.caKey }}
              path: ca.crt
      {{- end }}
      {{- if $v.kafka.tls.clientSecret }}
      - secret:
          name: {{ $v.kafka.tls.clientSecret }}
          items:
            - key: {{ $v.kafka.tls.certKey }}
              path: tls.crt
            - key: {{ $v.kafka.tls.keyKey }}
              path: tls.key
      {{- end }}
{{- end }}
{{- end -}}

{{/*
winnow.kafkaVolumeMounts: mounts of winnow.kafkaVolumes, or nothing.
*/}}
{{- define "winnow.kafkaVolumeMounts" -}}
{{- $v := .Values -}}
{{- if and (hasPrefix "SASL_" $v.kafka.security.protocol) $v.kafka.sasl.existingSecret }}
- name: kafka-sasl
  mountPath: /etc/winnow/kafka-sasl
  readOnly: true
{{- end }}
{{- if and (include "winnow.kafkaTlsEnabled" .) (or $v.kafka.tls.caSecret $v.kafka.tls.clientSecret) }}
- name: kafka-tls
  mountPath: /etc/winnow/kafka-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/*
winnow.hookJob: a Helm hook Job running one `winnow` command with the full settings inline (hook
Jobs run before the release's ConfigMap exists).
Usage: include "winnow.hookJob" (dict "root" $ "component" "migrations" "args" (list "db" "upgrade")
  "weight" "-5" "database" true "cfg" .Values.migrations "resources" .Values.migrations.resources)
*/}}
{{- define "winnow.hookJob" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "winnow.componentName" (dict "root" $root "component" .component) }}
  namespace: {{ $root.Release.Namespace | quote }}
  labels:
    {{- include "winnow.componentLabels" (dict "root" $root "component" .component) | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    {{- with $v.commonAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  backoffLimit: {{ .cfg.backoffLimit }}
  activeDeadlineSeconds: {{ .cfg.activeDeadlineSeconds }}
  {{- with .cfg.ttlSecondsAfterFinished }}
  ttlSecondsAfterFinished: {{ . }}
  {{- end }}
  template:
    {{- include "winnow.jobPod" . | nindent 4 }}
{{- end -}}

{{/*
winnow.jobPod: the pod template of a one-command Job (hook Jobs and CronJobs): the full settings
inline, the component's secrets, the Kafka files. Same arguments as winnow.hookJob.
*/}}
{{- define "winnow.jobPod" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
metadata:
  labels:
    {{- include "winnow.componentSelectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  {{- with include "winnow.imagePullSecrets" $root }}{{ . | nindent 2 }}{{- end }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .component }}
      image: {{ include "winnow.image" (dict "root" $root "gpu" false) | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args:
        {{- toYaml .args | nindent 8 }}
      env:
        {{- range $name, $value := (include "winnow.settings" $root | fromYaml) }}
        - name: {{ $name }}
          value: {{ $value | quote }}
        {{- end }}
        {{- include "winnow.secretEnv" (dict "root" $root "component" .component "database" .database) | nindent 8 }}
      securityContext:
        {{- toYaml $v.containerSecurityContext | nindent 8 }}
      resources:
        {{- toYaml .resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- with include "winnow.kafkaVolumeMounts" $root }}{{ . | nindent 8 }}{{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $v.tmpSizeLimit }}
    {{- with include "winnow.kafkaVolumes" $root }}{{ . | nindent 4 }}{{- end }}
{{- end -}}

{{/*
winnow.snapshotsClaim: the PersistentVolumeClaim of snapshot storage (existing, or the chart's).
*/}}
{{- define "winnow.snapshotsClaim" -}}
{{- default (include "winnow.componentName" (dict "root" . "component" "snapshots")) .Values.snapshots.persistence.existingClaim -}}
{{- end -}}
