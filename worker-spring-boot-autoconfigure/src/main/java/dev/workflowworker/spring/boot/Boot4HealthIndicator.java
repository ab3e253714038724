package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/** The workers' health on Boot 4 ({@code org.springframework.boot.health.contributor}). */
final class Boot4HealthIndicator implements HealthIndicator {

    private final WorkerService service;

    Boot4HealthIndicator(WorkerService service) {
        this.service = service;
    }

    @Override
    public Health health() {
        HealthDetails h = HealthDetails.of(service);
        return Health.status(new Status(h.status())).withDetails(h.details()).build();
    }
}
