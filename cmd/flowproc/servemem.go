package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/flowproc/flowproc/flowengine/budget"
)

// bodyBudgetFraction is the share of the memory limit that -body-budget
// defaults to: the rest is for the server's own heap (projects, gRPC
// buffers, streams, responses being built) and the collector's headroom.
const bodyBudgetFraction = 0.5

// memoryPlan is what serve applied: the memory limit and the body budget
// (nil: bodies are not admitted against a budget).
type memoryPlan struct {
	limit      budget.MemoryLimit
	bodyBudget *budget.Bytes
	// budgetFrom says how the body budget was chosen.
	budgetFrom string
	// gc is the collector's target (GOGC, else budget.DefaultGCPercent).
	gc budget.GCPercent
}

// parseMemorySettings parses -memory-limit and -body-budget: "" is 0
// (automatic), "off" is -1, else a size.
func parseMemorySettings(memoryLimit, bodyBudget string) (limit, bodies int64, err error) {
	parse := func(name, v string) (int64, error) {
		switch strings.TrimSpace(strings.ToLower(v)) {
		case "":
			return 0, nil
		case "off":
			return -1, nil
		}
		n, err := parseSize(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w (or off)", name, err)
		}
		return n, nil
	}
	if limit, err = parse("memory limit", memoryLimit); err != nil {
		return 0, 0, err
	}
	if bodies, err = parse("body budget", bodyBudget); err != nil {
		return 0, 0, err
	}
	return limit, bodies, nil
}

// planMemory decides the body budget for a memory limit m (already
// detected) and the settings.
func planMemory(st *settings, m budget.MemoryLimit) memoryPlan {
	p := memoryPlan{limit: m}
	switch {
	case st.bodyBudget > 0:
		p.bodyBudget, p.budgetFrom = budget.NewBytes(st.bodyBudget), "flag"
	case st.bodyBudget < 0:
		p.budgetFrom = "off"
	case m.Bytes > 0:
		p.bodyBudget = budget.NewBytes(int64(float64(m.Bytes) * bodyBudgetFraction))
		p.budgetFrom = fmt.Sprintf("%.0f%% of the memory limit", bodyBudgetFraction*100)
	default:
		p.budgetFrom = "off: no memory limit"
	}
	return p
}

// applyMemorySettings sets the Go runtime's memory limit as the settings
// and the environment say (budget.ApplyMemoryLimit) and its collector's
// target (budget.ApplyGCPercent), chooses the body budget, and logs and
// prints all three.
func applyMemorySettings(st *settings, logger *slog.Logger, stdout io.Writer) (memoryPlan, error) {
	var m budget.MemoryLimit
	if st.memoryLimit < 0 {
		m = budget.MemoryLimit{Source: budget.SourceNone}
	} else {
		var err error
		if m, err = budget.ApplyMemoryLimit(st.memoryLimit); err != nil {
			return memoryPlan{}, fmt.Errorf("memory limit: %w", err)
		}
	}
	p := planMemory(st, m)
	p.gc = budget.ApplyGCPercent(os.Getenv)
	budgetText := "off"
	perBody := budget.BodyCostFactor * st.bodyLimit
	if p.bodyBudget != nil {
		budgetText = budget.FormatSize(p.bodyBudget.Limit())
		if p.bodyBudget.Limit() < perBody {
			logger.Warn("the body budget is smaller than the estimated cost of one body at the body limit: such bodies are always refused (503)",
				"bodyBudget", p.bodyBudget.Limit(), "bodyLimit", st.bodyLimit, "costFactor", budget.BodyCostFactor)
		}
	}
	fmt.Fprintf(stdout, "flowproc: memory limit %s; body budget %s (%s; a body reserves %d× its size, %s at the body limit); GOGC %s\n",
		m, budgetText, p.budgetFrom, budget.BodyCostFactor, budget.FormatSize(perBody), p.gc)
	logger.Info("memory", "memoryLimit", m.Bytes, "memoryLimitSource", m.Source, "containerLimit", m.Container,
		"bodyBudget", p.bodyBudget.Limit(), "bodyBudgetFrom", p.budgetFrom, "bodyCostFactor", budget.BodyCostFactor,
		"gcPercent", p.gc.Percent, "gcPercentSource", p.gc.Source)
	return p, nil
}
