package dev.workflowworker.opentelemetry.archfixture;

import dev.workflowworker.core.WorkerService;

/** Breaks the tracing rule: the tracing module reaching past the contract into the engine. */
public final class TracingUsingTheEngine {

    private WorkerService service;

    public WorkerService service() {
        return service;
    }
}
