package e2e

import (
	"context"
	"os"
	"os/exec"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/entityhub/entityhub/test/testenv"
)

var _ = Describe("make demo", func() {
	It("comes up on its own control plane, prints the sample entities and shuts down", func() {
		assets, err := testenv.Assets()
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()

		cmd := exec.CommandContext(ctx, "go", "run", "./hack/demo", "--manager", managerBin, "--once")
		cmd.Dir = testenv.RepoRoot()
		cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))

		text := string(out)
		Expect(text).To(MatchRegexp(`NAMESPACE\s+NAME\s+KIND\s+OWNER\s+HEALTH\s+SYNC\s+READY\s+AGE\n`))
		for _, sample := range []string{"payments-api", "payments-db", "payments"} {
			Expect(text).To(MatchRegexp(`entityhub-system\s+`+sample+`\s`), "sample %s is listed", sample)
		}
		By("showing the truth of the sample Argo CD Applications")
		Expect(text).To(MatchRegexp(`payments-api\s+Component\s+group:default/payments\s+Degraded\s+Synced\s+1/2\s`))
		Expect(text).To(MatchRegexp(`checkout\s+Component\s+group:default/checkout\s+Healthy\s+OutOfSync\s+1/1\s`),
			"an entity is created for a labelled Application, its spec from annotations")
		Expect(text).To(MatchRegexp(`search\s+Component\s+group:default/discovery\s+Progressing\s+Synced\s+0/1\s`))
		Expect(text).To(ContainSubstring("Application argocd/payments-api-prod-us on prod-us is Degraded"))
		Expect(text).To(MatchRegexp(`\sprod-eu,prod-us\n`), "clusters named through Argo CD's cluster Secrets")
		By("showing which managed resource of the sample Crossplane claim fails")
		Expect(text).To(MatchRegexp(`payments-db\s+Resource\s+group:default/payments\s+Degraded\s+2/5\s`))
		Expect(text).To(ContainSubstring("Instance payments-db-x7k2p-primary is Degraded: create failed"))
		By("counting only the newest run of the sample CronWorkflow")
		Expect(text).To(MatchRegexp(`billing-report\s+Component\s+group:default/payments\s+Degraded\s+1/2\s`))
		By("rolling the payments System up from its members, naming the worst")
		Expect(text).To(MatchRegexp(`payments\s+System\s+group:default/payments\s+Degraded\s+\S+\s+1/3\s`))
		Expect(text).To(ContainSubstring("CatalogEntity entityhub-system/payments-api is Degraded: Application argocd/payments-api-prod-us"))
		By("printing a sample of the catalog endpoint")
		Expect(text).To(ContainSubstring("apiVersion: backstage.io/v1alpha1\nkind: Resource\n"))
		Expect(text).To(MatchRegexp(`Catalog:\s+http://127\.0\.0\.1:\d+/entities`))
		Expect(text).To(ContainSubstring("export KUBECONFIG="))
		Expect(text).To(ContainSubstring("Stopping the control plane"))
	})
})
