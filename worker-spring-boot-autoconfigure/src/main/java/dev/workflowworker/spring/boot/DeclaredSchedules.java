package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The schedules declared under {@code workflow.worker.schedules.<id>.*}, kept in step with the
 * stream when the application is ready: each is created, or updated where the stored one differs;
 * an unchanged one is not written, so restarts and rolling deploys leave a schedule's place and
 * counts alone (they would survive a rewrite too, but a write per instance per start is noise).
 *
 * <p>Each declared schedule is marked as this application's ({@link Schedule#managedBy()},
 * {@code spring:} followed by {@code workflow.worker.schedules-owner}). A schedule that carries the
 * mark but is no longer declared is left as it is and logged, or deleted with
 * {@code workflow.worker.schedules-prune=true}. Schedules made otherwise (in code, the CLI) carry no
 * mark or another one and are never pruned; declaring one with the same id takes it over.
 *
 * <p>The declarations are checked when the bean is created, so a wrong one fails the context's
 * refresh naming its property.
 */
public final class DeclaredSchedules implements ApplicationListener<ApplicationReadyEvent> {

    private static final Logger log = LoggerFactory.getLogger(DeclaredSchedules.class);
    private static final String PREFIX = "workflow.worker.schedules";

    /**
     * What one {@link #apply()} did, by schedule id.
     *
     * @param created   schedules that did not exist
     * @param updated   schedules whose stored definition differed
     * @param unchanged schedules already as declared, not written
     * @param deleted   schedules of this application no longer declared, deleted by pruning
     * @param orphaned  schedules of this application no longer declared, left because pruning is off
     */
    public record Applied(List<String> created, List<String> updated, List<String> unchanged, List<String> deleted,
                          List<String> orphaned) {
    }

    private final WorkerService service;
    private final Map<String, WorkflowWorkerProperties.DeclaredSchedule> declared;
    private final Map<String, Schedule> built;
    private final boolean prune;
    private final String marker;

    /**
     * Checks the declarations.
     *
     * @param service     the service whose transport keeps the schedules
     * @param properties  the bound properties
     * @param environment for {@code spring.application.name}, the default owner
     * @throws IllegalArgumentException naming the property, if a declaration is wrong
     * @throws IllegalStateException    if schedules are declared but the transport keeps none
     */
    public DeclaredSchedules(WorkerService service, WorkflowWorkerProperties properties, Environment environment) {
        this.service = service;
        this.declared = properties.schedules() == null ? new TreeMap<>() : new TreeMap<>(properties.schedules());
        this.prune = properties.schedulesPrune();
        String owner = properties.schedulesOwner() != null && !properties.schedulesOwner().isBlank()
                ? properties.schedulesOwner() : environment.getProperty("spring.application.name", "application");
        this.marker = "spring:" + owner;
        Map<String, Schedule> b = new LinkedHashMap<>();
        declared.forEach((id, d) -> b.put(id, build(id, d, marker)));
        this.built = b;
        if ((!built.isEmpty() || prune) && service.schedules().isEmpty()) {
            throw new IllegalStateException(PREFIX + (built.isEmpty() ? "-prune" : "." + built.keySet().iterator().next())
                    + ": the transport keeps no schedules (Redis, both modes, and the in-memory transport do; a shared"
                    + " Redis stream on a cluster whose name has a '}' and no hash tag does not)");
        }
    }

    /** {@return the mark this application's schedules carry: {@code spring:<owner>}} */
    public String marker() {
        return marker;
    }

    /** {@return the declared schedules by id, as they are written (paused as declared, false when unset)} */
    public Map<String, Schedule> declared() {
        return Map.copyOf(built);
    }

    /**
     * Applies the declarations once the application is ready, whether this process's workers run
     * yet or not (with {@code auto-startup=false}): the schedules live in the stream's store and
     * fire on whichever process owns them there.
     */
    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        apply();
    }

    /**
     * Creates or updates each declared schedule that differs from the stored one, then deals with
     * this application's schedules that are no longer declared. Idempotent.
     *
     * @return what was done
     */
    public Applied apply() {
        Optional<Schedules> maybe = service.schedules();
        if (maybe.isEmpty()) {
            return new Applied(List.of(), List.of(), List.of(), List.of(), List.of()); // checked at creation
        }
        Schedules schedules = maybe.get();
        List<String> created = new ArrayList<>();
        List<String> updated = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        for (Map.Entry<String, Schedule> e : built.entrySet()) {
            Optional<ScheduleInfo> stored = schedules.get(e.getKey());
            Schedule want = e.getValue();
            if (declared.get(e.getKey()).paused() == null && stored.isPresent()) {
                // Unset: an operator's pause or resume outlives the restart.
                want = want.toBuilder().paused(stored.get().schedule().paused()).build();
            }
            if (stored.isPresent() && stored.get().schedule().equals(want)) {
                unchanged.add(e.getKey());
                continue;
            }
            schedules.put(want);
            if (stored.isEmpty()) {
                created.add(e.getKey());
                log.info("schedule '{}' created from {}.{}: {}", e.getKey(), PREFIX, e.getKey(), want);
            } else {
                updated.add(e.getKey());
                String from = stored.get().schedule().managedBy();
                log.info("schedule '{}' updated from {}.{}{}: {}", e.getKey(), PREFIX, e.getKey(),
                        marker.equals(from) ? "" : " (taken over from " + (from == null ? "no declaration" : from) + ")",
                        want);
            }
        }
        List<String> deleted = new ArrayList<>();
        List<String> orphaned = new ArrayList<>();
        for (ScheduleInfo info : schedules.list()) {
            String id = info.schedule().id();
            if (!marker.equals(info.schedule().managedBy()) || built.containsKey(id)) {
                continue;
            }
            if (prune) {
                if (schedules.delete(id)) {
                    deleted.add(id);
                    log.info("schedule '{}' deleted: {} declared it and no longer does ({}-prune=true)", id, marker,
                            PREFIX);
                }
            } else {
                orphaned.add(id);
                log.warn("schedule '{}' was declared by {} and no longer is; it is left as it is and still fires "
                        + "(delete it, or set {}-prune=true)", id, marker, PREFIX);
            }
        }
        return new Applied(List.copyOf(created), List.copyOf(updated), List.copyOf(unchanged), List.copyOf(deleted),
                List.copyOf(orphaned));
    }

    /** Builds one declaration, naming the property at fault. */
    static Schedule build(String id, WorkflowWorkerProperties.DeclaredSchedule d, String marker) {
        String at = PREFIX + "." + id;
        try {
            Schedule.every(id, java.time.Duration.ofMinutes(1)).eventType("probe").build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(at + ": " + e.getMessage(), e);
        }
        if (d.eventType() == null || d.eventType().isBlank()) {
            throw new IllegalArgumentException(at + ".event-type must be set: the type of each occurrence's event");
        }
        if ((d.cron() == null) == (d.every() == null)) {
            throw new IllegalArgumentException(at + ": set exactly one of " + at + ".cron and " + at + ".every");
        }
        Schedule.Builder b;
        try {
            b = d.cron() != null ? Schedule.cron(id, d.cron()) : Schedule.every(id, d.every());
            // the timing alone first, so that a wrong cron or interval is named as such
            b.eventType(d.eventType()).build();
        } catch (IllegalArgumentException e) {
            String property = d.cron() != null ? at + ".cron=" + d.cron() : at + ".every=" + d.every();
            throw new IllegalArgumentException(property + " is invalid: " + e.getMessage(), e);
        }
        Settings.apply("schedules." + id + ".", d, b, java.util.Set.of("cron", "every", "paused"), Map.of());
        b.paused(Boolean.TRUE.equals(d.paused())).managedBy(marker);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(at + ".*: " + e.getMessage(), e);
        }
    }
}
