package e2e

import (
	"context"
	"io"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The manager's metrics endpoint", func() {
	It("serves the metrics the README lists", func() {
		_, stderr, err := kubectlStdin(context.Background(), `
apiVersion: v1
kind: Namespace
metadata:
  name: metrics
---
apiVersion: catalog.entityhub.dev/v1alpha1
kind: CatalogEntity
metadata:
  name: measured
  namespace: metrics
`, "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), stderr)
		var body string
		Eventually(func(g Gomega) {
			resp, err := http.Get("http://" + metricsAddr + "/metrics")
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = resp.Body.Close() }()
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
			b, err := io.ReadAll(resp.Body)
			g.Expect(err).NotTo(HaveOccurred())
			body = string(b)
			// Counters appear once observed: the entity above gets its status written.
			g.Expect(body).To(ContainSubstring("entityhub_entities{"))
			g.Expect(body).To(ContainSubstring("entityhub_status_writes_total{"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		for _, name := range []string{
			"controller_runtime_reconcile_total",
			"controller_runtime_reconcile_errors_total",
			"workqueue_depth",
			"rest_client_requests_total",
		} {
			Expect(body).To(ContainSubstring(name))
		}
	})
})
