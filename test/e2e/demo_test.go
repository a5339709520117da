package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
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
		Expect(text).To(ContainSubstring("export KUBECONFIG="))
		Expect(text).To(ContainSubstring("Stopping the control plane"))
		Expect(strings.Count(text, "Unknown")).To(BeNumerically(">=", 3), "every sample has its status computed")
	})
})
