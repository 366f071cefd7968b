{{/*
Named templates. Those marked PUBLIC are meant to be included by a gateway's own
chart (with gatewatch as a dependency) to add the sidecar to its pods; they take
a dict: (dict "root" $ "values" .Values.gatewatch).
Inside this chart they are called with (dict "root" $ "values" .Values).
*/}}

{{- define "gatewatch.name" -}}
{{- default "gatewatch" .values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatewatch.fullname" -}}
{{- if .values.fullnameOverride -}}
{{- .values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "gatewatch.name" . -}}
{{- if contains $name .root.Release.Name -}}
{{- .root.Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .root.Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gatewatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatewatch.name" . }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "gatewatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gatewatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* Labels of the pods that carry the sidecar: ours in example mode, the gateway's in sidecar mode. */}}
{{- define "gatewatch.podSelector" -}}
{{- if eq .values.mode "example" -}}
{{ include "gatewatch.selectorLabels" . }}
{{- else -}}
{{- if not .values.gateway.podSelector -}}
{{- fail "gateway.podSelector is required in sidecar mode: the labels of the gateway's pods (e.g. app.kubernetes.io/name: litellm), so the Service and the NetworkPolicy select them" -}}
{{- end -}}
{{ toYaml .values.gateway.podSelector }}
{{- end -}}
{{- end -}}

{{- define "gatewatch.image" -}}
{{- $tag := default .root.Chart.AppVersion .values.image.tag -}}
{{- if .values.image.digest -}}
{{- printf "%s@%s" .values.image.repository .values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The config file: values.config plus the rule directories of customRules. */}}
{{- define "gatewatch.configYaml" -}}
{{- $cfg := deepCopy (.values.config | default dict) -}}
{{- range $category, $files := .values.customRules -}}
{{- if $files -}}
{{- $section := get $cfg $category | default dict -}}
{{- /* gatewatch's config names the setting rulesDirs for credentials, extraRuleDirs for the others. */ -}}
{{- $key := ternary "rulesDirs" "extraRuleDirs" (eq $category "credentials") -}}
{{- $dirs := concat (get $section $key | default list) (list (printf "/etc/gatewatch/rules/%s" $category)) -}}
{{- $_ := set $section $key $dirs -}}
{{- $_ := set $cfg $category $section -}}
{{- end -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{- define "gatewatch.hasRules" -}}
{{- range $category, $files := .values.customRules -}}{{- if $files -}}true{{- end -}}{{- end -}}
{{- end -}}

{{- define "gatewatch.configName" -}}
{{- printf "%s-config" (include "gatewatch.fullname" .) -}}
{{- end -}}

{{- define "gatewatch.rulesName" -}}
{{- printf "%s-rules" (include "gatewatch.fullname" .) -}}
{{- end -}}

{{/*
PUBLIC "gatewatch.native": "true" when the sidecar is a native sidecar (an init
container with restartPolicy: Always), else "". auto = Kubernetes >= 1.29.
*/}}
{{- define "gatewatch.native" -}}
{{- $v := .values.nativeSidecar | toString -}}
{{- $supported := semverCompare ">=1.29.0-0" .root.Capabilities.KubeVersion.Version -}}
{{- if eq $v "true" -}}
{{- if not $supported -}}
{{- fail (printf "nativeSidecar: true needs Kubernetes >= 1.29 (this is %s); use nativeSidecar: auto or false" .root.Capabilities.KubeVersion.Version) -}}
{{- end -}}
true
{{- else if and (eq $v "auto") $supported -}}
true
{{- end -}}
{{- end -}}

{{/* Refuses values that would put a secret in a ConfigMap or an env literal. */}}
{{- define "gatewatch.validate" -}}
{{- $config := .values.config | default dict -}}
{{- range $key := list "listen" "admin" "upstream" -}}
{{- if hasKey $config $key -}}
{{- fail (printf "config.%s is set by the chart (ports.*, gateway.port); remove it from config" $key) -}}
{{- end -}}
{{- end -}}
{{- $text := toYaml $config -}}
{{- $secretKey := regexFind "(?m)^\\s*(- )?(fingerprintKey|adminToken|redisUrl|url|secret|token|password|apiKey|api_key):" $text -}}
{{- if $secretKey -}}
{{- fail (printf "config must not hold secrets (found %q): put the value in a Kubernetes Secret and name it under secrets.* (fingerprintKey, adminToken, slackWebhookUrl, webhookUrl, webhookSecret, redisUrl)" (trim $secretKey)) -}}
{{- end -}}
{{- if regexMatch "hooks\\.slack\\.com|xox[abpr]-|://[^/\\s@]*:[^/\\s@]+@" $text -}}
{{- fail "config contains what looks like a credential (a Slack webhook or token, or a URL with a password): put it in a Kubernetes Secret and name it under secrets.*" -}}
{{- end -}}
{{- range $setting, $ref := .values.secrets -}}
{{- if and $ref.name (not (regexMatch "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" $ref.name)) -}}
{{- fail (printf "secrets.%s.name must be the name of an existing Secret (a lowercase DNS name), not a secret value" $setting) -}}
{{- end -}}
{{- end -}}
{{- range $i, $e := .values.extraEnv -}}
{{- if and (hasKey $e "value") (regexMatch "(?i)(key|token|secret|password|url)" $e.name) -}}
{{- fail (printf "extraEnv[%d] (%s) looks secret: give it valueFrom.secretKeyRef, not a literal value" $i $e.name) -}}
{{- end -}}
{{- end -}}
{{- if not .values.secrets.adminToken.name -}}
{{- fail "secrets.adminToken.name is required: in a pod the admin listener is not on loopback, so the alerts API needs a token. Create one: kubectl create secret generic gatewatch-admin --from-literal=admin-token=$(openssl rand -hex 24)" -}}
{{- end -}}
{{- if and .values.redis.enabled (not .values.secrets.redisUrl.name) -}}
{{- fail "redis.enabled needs secrets.redisUrl.name: an existing Secret holding the Redis URL (redis://[:password@]host:6379/0)" -}}
{{- end -}}
{{- end -}}

{{/* PUBLIC "gatewatch.sidecar": the gatewatch container (one list item). */}}
{{- define "gatewatch.sidecar" -}}
{{- $v := .values -}}
- name: gatewatch
  image: {{ include "gatewatch.image" . | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- if include "gatewatch.native" . }}
  restartPolicy: Always
  {{- end }}
  args:
    - run
    - --config
    - /etc/gatewatch/config.yaml
    - --listen
    - {{ printf "0.0.0.0:%d" (int $v.ports.proxy) | quote }}
    - --admin
    - {{ printf "0.0.0.0:%d" (int $v.ports.admin) | quote }}
    - --upstream
    - {{ printf "http://127.0.0.1:%d" (int $v.gateway.port) | quote }}
  env:
    - name: GATEWATCH_LOG_LEVEL
      value: {{ $v.logLevel | quote }}
    {{- $redisUrl := ternary $v.secrets.redisUrl (dict) (and $v.redis.enabled true) }}
    {{- range $pair := list (list "GATEWATCH_ADMIN_TOKEN" $v.secrets.adminToken) (list "GATEWATCH_FINGERPRINT_KEY" $v.secrets.fingerprintKey) (list "GATEWATCH_SLACK_WEBHOOK_URL" $v.secrets.slackWebhookUrl) (list "GATEWATCH_WEBHOOK_URL" $v.secrets.webhookUrl) (list "GATEWATCH_WEBHOOK_SECRET" $v.secrets.webhookSecret) (list "GATEWATCH_REDIS_URL" $redisUrl) }}
    {{- $ref := index $pair 1 }}
    {{- if $ref.name }}
    - name: {{ index $pair 0 }}
      valueFrom:
        secretKeyRef:
          name: {{ $ref.name }}
          key: {{ $ref.key }}
    {{- end }}
    {{- end }}
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: gw-proxy
      containerPort: {{ $v.ports.proxy }}
      protocol: TCP
    - name: gw-admin
      containerPort: {{ $v.ports.admin }}
      protocol: TCP
  startupProbe:
    httpGet: {path: /healthz, port: gw-admin}
    {{- toYaml $v.probes.startup | nindent 4 }}
  livenessProbe:
    httpGet: {path: /healthz, port: gw-admin}
    {{- toYaml $v.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet: {path: /readyz, port: gw-admin}
    {{- toYaml $v.probes.readiness | nindent 4 }}
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  volumeMounts:
    - name: gatewatch-config
      mountPath: /etc/gatewatch/config.yaml
      subPath: config.yaml
      readOnly: true
    {{- if include "gatewatch.hasRules" . }}
    - name: gatewatch-rules
      mountPath: /etc/gatewatch/rules
      readOnly: true
    {{- end }}
    - name: gatewatch-tmp
      mountPath: /tmp
{{- end -}}

{{/* PUBLIC "gatewatch.sidecar.initContainers": the sidecar if native, else nothing. */}}
{{- define "gatewatch.sidecar.initContainers" -}}
{{- if include "gatewatch.native" . }}
{{- include "gatewatch.sidecar" . }}
{{- end }}
{{- end -}}

{{/* PUBLIC "gatewatch.sidecar.containers": the sidecar if not native, else nothing. */}}
{{- define "gatewatch.sidecar.containers" -}}
{{- if not (include "gatewatch.native" .) }}
{{- include "gatewatch.sidecar" . }}
{{- end }}
{{- end -}}

{{/* PUBLIC "gatewatch.sidecar.volumes": the volumes the sidecar mounts (list items). */}}
{{- define "gatewatch.sidecar.volumes" -}}
- name: gatewatch-config
  configMap:
    name: {{ include "gatewatch.configName" . }}
{{- if include "gatewatch.hasRules" . }}
- name: gatewatch-rules
  configMap:
    name: {{ include "gatewatch.rulesName" . }}
    items:
      {{- range $category, $files := .values.customRules }}
      {{- range $file, $_ := $files }}
      - key: {{ printf "%s.%s" $category $file }}
        path: {{ printf "%s/%s" $category $file }}
      {{- end }}
      {{- end }}
{{- end }}
- name: gatewatch-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/* PUBLIC "gatewatch.sidecar.podAnnotations": restarts pods when the config or rules change. */}}
{{- define "gatewatch.sidecar.podAnnotations" -}}
checksum/gatewatch-config: {{ include "gatewatch.configYaml" . | sha256sum }}
checksum/gatewatch-rules: {{ toYaml .values.customRules | sha256sum }}
{{- end -}}
