package dev.workflowworker.micrometer;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import io.micrometer.core.instrument.Clock;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The schedule gauges' one source: {@link Schedules#list()} summed, read at most once per
 * {@link #REFRESH_NANOS} and shared by the four gauges of a registry. The list is the stream's, not this
 * process's (every process reports the same totals, like the stream gauges), and on Redis it reads
 * and parses every schedule's definition, which with thousands of schedules is worth doing once
 * per scrape interval rather than once per gauge.
 */
final class ScheduleTotals {

    /** How long one reading serves: on Redis, list() of 10,000 schedules took 1.4-2.2 s on a busy 2-core machine. */
    static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** Totals over the schedules that exist at the reading; NaN when there are none to read. */
    record Snapshot(double active, double paused, double fired, double skipped) {
        static final Snapshot NONE = new Snapshot(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    private final WorkerService service;
    private final Clock clock;
    private Snapshot last;
    private long readAt;

    ScheduleTotals(WorkerService service, Clock clock) {
        this.service = service;
        this.clock = clock;
    }

    synchronized Snapshot get() {
        long now = clock.monotonicTime();
        if (last == null || now - readAt >= REFRESH_NANOS) {
            last = read();
            readAt = now;
        }
        return last;
    }

    private Snapshot read() {
        List<ScheduleInfo> all;
        try {
            Optional<Schedules> schedules = service.schedules();
            if (schedules.isEmpty()) {
                return Snapshot.NONE;
            }
            all = schedules.get().list();
        } catch (RuntimeException e) {
            return Snapshot.NONE; // the store is unreachable: no value rather than a failed scrape
        }
        long active = 0;
        long paused = 0;
        long fired = 0;
        long skipped = 0;
        for (ScheduleInfo i : all) {
            if (i.schedule().paused()) {
                paused++;
            } else {
                active++;
            }
            fired += i.fired();
            skipped += i.skipped();
        }
        return new Snapshot(active, paused, fired, skipped);
    }
}
