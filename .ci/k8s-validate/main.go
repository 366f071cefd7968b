// k8s-validate checks rendered manifests against the Kubernetes API types of
// one Kubernetes minor version: each document is decoded strictly into the Go
// type that k8s.io/api defines for its apiVersion/kind in that version, so an
// unknown field, a wrong type or an API the version does not serve is an error.
// It is built once per target version (go.mod = current, go.1.27.mod = old).
//
// Usage: k8s-validate [FILE...]   (reads stdin when no file is given)
// Output: one line per document; exit 1 if any document is invalid.
// Kinds that are not built in (CRDs such as ServiceMonitor) are reported as
// "skip" and left to the caller, unless -strict-kinds is given.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var builders = []func(*runtime.Scheme) error{
	corev1.AddToScheme, appsv1.AddToScheme, networkingv1.AddToScheme, rbacv1.AddToScheme,
	policyv1.AddToScheme, autoscalingv2.AddToScheme, batchv1.AddToScheme,
}

func main() {
	strictKinds := flag.Bool("strict-kinds", false, "fail on kinds that are not built into the Kubernetes API")
	flag.Parse()
	scheme := runtime.NewScheme()
	for _, add := range builders {
		if err := add(scheme); err != nil {
			fmt.Fprintln(os.Stderr, "scheme:", err)
			os.Exit(2)
		}
	}
	inputs := flag.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	failed := 0
	for _, name := range inputs {
		n, err := validateStream(scheme, name, *strictKinds)
		failed += n
		if err != nil {
			fmt.Printf("error\t%s\t%v\n", name, err)
			failed++
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}

func validateStream(scheme *runtime.Scheme, name string, strictKinds bool) (int, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		r = f
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	failed := 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return failed, nil
		}
		if err != nil {
			return failed, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		id, err := validateDoc(scheme, doc, strictKinds)
		if err != nil {
			fmt.Printf("invalid\t%s\t%v\n", id, err)
			failed++
		} else if strings.HasPrefix(id, "skip ") {
			fmt.Printf("skip\t%s\n", strings.TrimPrefix(id, "skip "))
		} else {
			fmt.Printf("ok\t%s\n", id)
		}
	}
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

func validateDoc(scheme *runtime.Scheme, doc []byte, strictKinds bool) (string, error) {
	var tm metav1.TypeMeta
	var meta struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return "?", fmt.Errorf("not a Kubernetes object: %w", err)
	}
	_ = yaml.Unmarshal(doc, &meta)
	id := fmt.Sprintf("%s/%s %s", tm.APIVersion, tm.Kind, meta.Metadata.Name)
	if tm.APIVersion == "" || tm.Kind == "" {
		return id, errors.New("apiVersion and kind are required")
	}
	if meta.Metadata.Name == "" {
		return id, errors.New("metadata.name is required")
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return id, err
	}
	gvk := gv.WithKind(tm.Kind)
	if !scheme.Recognizes(gvk) {
		if !strictKinds && !scheme.IsGroupRegistered(gv.Group) {
			return "skip " + id, nil
		}
		return id, fmt.Errorf("%s is not served by this Kubernetes version", gvk)
	}
	obj, err := scheme.New(gvk)
	if err != nil {
		return id, err
	}
	// UnmarshalStrict rejects unknown and duplicate fields and wrong types.
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return id, err
	}
	if problems := semanticProblems(obj, meta.Metadata); len(problems) > 0 {
		return id, errors.New(strings.Join(problems, "; "))
	}
	return id, nil
}

// semanticProblems runs the part of the API server's validation that needs no
// cluster: names, labels, and the references inside a pod spec.
func semanticProblems(obj runtime.Object, meta metav1.ObjectMeta) []string {
	var out []string
	add := func(field string, errs []string) {
		for _, e := range errs {
			out = append(out, field+": "+e)
		}
	}
	add("metadata.name", validation.IsDNS1123Subdomain(meta.Name))
	for k, v := range meta.Labels {
		add("metadata.labels["+k+"]", validation.IsQualifiedName(k))
		add("metadata.labels["+k+"]", validation.IsValidLabelValue(v))
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		out = append(out, podSpecProblems("spec", &o.Spec)...)
	case *appsv1.Deployment:
		out = append(out, podSpecProblems("spec.template.spec", &o.Spec.Template.Spec)...)
		out = append(out, selectorProblems(o.Spec.Selector, o.Spec.Template.Labels)...)
	case *appsv1.StatefulSet:
		out = append(out, podSpecProblems("spec.template.spec", &o.Spec.Template.Spec)...)
	case *appsv1.DaemonSet:
		out = append(out, podSpecProblems("spec.template.spec", &o.Spec.Template.Spec)...)
	case *batchv1.Job:
		out = append(out, podSpecProblems("spec.template.spec", &o.Spec.Template.Spec)...)
	case *corev1.Service:
		for i, p := range o.Spec.Ports {
			field := fmt.Sprintf("spec.ports[%d]", i)
			if len(o.Spec.Ports) > 1 && p.Name == "" {
				out = append(out, field+".name: required when there are several ports")
			}
			if p.TargetPort.Type == intstr.String {
				add(field+".targetPort", validation.IsValidPortName(p.TargetPort.StrVal))
			}
		}
	}
	return out
}

func selectorProblems(selector *metav1.LabelSelector, labels map[string]string) []string {
	if selector == nil {
		return []string{"spec.selector: required"}
	}
	for k, v := range selector.MatchLabels {
		if labels[k] != v {
			return []string{fmt.Sprintf("spec.selector: %s=%s does not match the pod template's labels", k, v)}
		}
	}
	return nil
}

func podSpecProblems(field string, spec *corev1.PodSpec) []string {
	var out []string
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		if volumes[v.Name] {
			out = append(out, field+".volumes: duplicate name "+v.Name)
		}
		volumes[v.Name] = true
	}
	names := map[string]bool{}
	ports := map[string]bool{}
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	if len(spec.Containers) == 0 {
		out = append(out, field+".containers: at least one container is required")
	}
	for _, c := range all {
		at := field + ".containers[" + c.Name + "]"
		for _, e := range validation.IsDNS1123Label(c.Name) {
			out = append(out, at+".name: "+e)
		}
		if names[c.Name] {
			out = append(out, at+": duplicate container name")
		}
		names[c.Name] = true
		if c.Image == "" {
			out = append(out, at+".image: required")
		}
		own := map[string]bool{}
		for _, p := range c.Ports {
			if p.Name == "" {
				continue
			}
			for _, e := range validation.IsValidPortName(p.Name) {
				out = append(out, at+".ports["+p.Name+"]: "+e)
			}
			if ports[p.Name] {
				out = append(out, at+".ports: port name "+p.Name+" is used twice in the pod")
			}
			ports[p.Name] = true
			own[p.Name] = true
		}
		for _, e := range c.Env {
			for _, msg := range validation.IsEnvVarName(e.Name) {
				out = append(out, at+".env["+e.Name+"]: "+msg)
			}
			if e.Value != "" && e.ValueFrom != nil {
				out = append(out, at+".env["+e.Name+"]: value and valueFrom are exclusive")
			}
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				out = append(out, at+".volumeMounts["+m.Name+"]: no such volume in the pod")
			}
		}
		for kind, probe := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe} {
			if probe == nil || probe.HTTPGet == nil {
				continue
			}
			if port := probe.HTTPGet.Port; port.Type == intstr.String && !own[port.StrVal] {
				out = append(out, at+"."+kind+": port "+port.StrVal+" is not a port of this container")
			}
		}
	}
	return out
}
