{{- define "crisp.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{- define "crisp.labels" -}}
app.kubernetes.io/name: {{ include "crisp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "crisp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "crisp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "crisp.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
