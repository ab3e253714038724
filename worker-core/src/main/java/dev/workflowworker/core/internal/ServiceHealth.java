package dev.workflowworker.core.internal;

import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.PartitionOwnership;
import dev.workflowworker.api.WorkerHealth;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.TimeSource;

import java.util.ArrayList;
import java.util.List;

/**
 * A service's health (docs/ARCHITECTURE.md, "Health"): its workers' verdicts judged together,
 * its counters, and what its transport tells of partitions and retry holds. Cheap: reads
 * counters only.
 */
public final class ServiceHealth {

    private final Supervisor supervisor;
    private final HealthRules.Thresholds thresholds;
    private final WorkerStats totals;
    private final TimeSource time;
    private final EventTransport transport;

    /**
     * @param supervisor its workers
     * @param thresholds the health thresholds
     * @param totals     its service-wide counters
     * @param time       the time source
     * @param transport  its transport
     */
    public ServiceHealth(Supervisor supervisor, HealthRules.Thresholds thresholds, WorkerStats totals,
                         TimeSource time, EventTransport transport) {
        this.supervisor = supervisor;
        this.thresholds = thresholds;
        this.totals = totals;
        this.time = time;
        this.transport = transport;
    }

    /**
     * @param started false for a service never started, which is unhealthy whatever else holds
     * @return the snapshot now
     */
    public HealthSnapshot snapshot(boolean started) {
        long now = time.wallMillis();
        List<WorkflowWorker> current = supervisor.workers();
        List<WorkerHealth> details = new ArrayList<>(current.size());
        List<HealthStatus> statuses = new ArrayList<>(current.size());
        int healthy = 0;
        int degraded = 0;
        int unhealthy = 0;
        int running = 0;
        for (WorkflowWorker w : current) {
            WorkerHealth h = w.health(now, thresholds);
            details.add(h);
            statuses.add(h.status());
            switch (h.status()) {
                case HEALTHY -> healthy++;
                case DEGRADED -> degraded++;
                case UNHEALTHY -> unhealthy++;
            }
            if (h.state().isLive()) {
                running++;
            }
        }
        HealthStatus status = started ? HealthRules.service(statuses, running, supervisor.target())
                : HealthStatus.UNHEALTHY;
        PartitionOwnership ownership = transport.ownership().orElse(null);
        // Fewer partitions than its share because leases cannot be renewed: their events wait.
        if (ownership != null && ownership.shortOfShare() && status == HealthStatus.HEALTHY) {
            status = HealthStatus.DEGRADED;
        }
        return new HealthSnapshot(status, running, healthy, degraded, unhealthy, totals.processed(),
                totals.succeededCount(), totals.failedCount(), totals.active(), time.instant(),
                totals.retriedCount(), totals.deadLetteredCount(), totals.duplicateCount(), details, ownership,
                transport.retryHolds().orElse(null));
    }
}
