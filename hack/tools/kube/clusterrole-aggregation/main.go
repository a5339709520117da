// Command clusterrole-aggregation runs Kubernetes' own ClusterRole aggregation
// controller (k8s.io/kubernetes/pkg/controller/clusterroleaggregation), the one
// kube-controller-manager runs, and nothing else. The test control plane (envtest) has no
// kube-controller-manager, and building all of it pulls in the kubelet; the tests that
// prove the manager's aggregated ClusterRole picks up Crossplane's roles run this instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "Path of the kubeconfig of the API server to run against.")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterrole-aggregation:", err)
		os.Exit(1)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterrole-aggregation:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	factory := informers.NewSharedInformerFactory(client, 0)
	c := clusterroleaggregation.NewClusterRoleAggregation(factory.Rbac().V1().ClusterRoles(), client.RbacV1())
	factory.Start(ctx.Done())
	c.Run(ctx, 1)
}
