package org.d2v.backend.cuda;

import org.d2v.backend.Backend;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips a test class, with the probe's reason, where the CUDA backend is unavailable. Evaluated
 * before any lifecycle method, so the kernel suite's "a missing device fails in CI" rule (meant for
 * OpenCL, which CI always has) does not apply: CI has no GPU, and that is no failure.
 */
public final class CudaAvailable implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Backend.Probe p = new CudaBackend().probe();
        return p.available()
                ? ConditionEvaluationResult.enabled("cuda: " + p.detail())
                : ConditionEvaluationResult.disabled("backend cuda unavailable: " + p.detail());
    }
}
