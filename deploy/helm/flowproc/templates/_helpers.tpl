{{/* Labels of every object of the chart. */}}
{{- define "flowproc.labels" -}}
app: {{ .Values.name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* The hardened container securityContext (uid given by the caller). */}}
{{- define "flowproc.securityContext" -}}
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
seccompProfile:
  type: RuntimeDefault
capabilities:
  drop: ["ALL"]
{{- end -}}
