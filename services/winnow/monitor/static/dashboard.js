(function(){var ms=__REFRESH_MS__,main=document.getElementById('dash'),
st=document.getElementById('status');function tick(){fetch('__FRAGMENT_PATH__',{cache:'no-store'})
.then(function(r){if(!r.ok){throw new Error('HTTP '+r.status);}return r.text();})
.then(function(t){main.innerHTML=t;st.className='status live';
st.textContent='Live \u00b7 updated '+new Date().toLocaleTimeString();})
.catch(function(e){st.className='status stale';st.textContent='Live \u00b7 update failed ('+
e.message+'), retrying';}).then(function(){setTimeout(tick,ms);});}setTimeout(tick,ms);})();
