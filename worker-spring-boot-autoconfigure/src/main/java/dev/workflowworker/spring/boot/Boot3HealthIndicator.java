package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;

/** The workers' health on Boot 3 ({@code org.springframework.boot.actuate.health}). */
final class Boot3HealthIndicator implements HealthIndicator {

    private final WorkerService service;

    Boot3HealthIndicator(WorkerService service) {
        this.service = service;
    }

    @Override
    public Health health() {
        HealthDetails h = HealthDetails.of(service);
        return Health.status(new Status(h.status())).withDetails(h.details()).build();
    }
}
