package dev.workflowworker.micrometer;

import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.WorkerService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;

/**
 * Binds the metrics of a {@link WorkerService} to a Micrometer {@link MeterRegistry}. Uses the
 * service's public API only: a {@link WorkerListener} added with
 * {@link WorkerService#addListener} for counters and the timer, and {@link WorkerService#health()}
 * for gauges.
 *
 * <pre>{@code
 * WorkflowWorkerMetrics metrics = new WorkflowWorkerMetrics(service);
 * metrics.bindTo(registry);   // before service.start(), so the counters see every outcome
 * service.start();
 * }</pre>
 *
 * <h2>Meters</h2>
 * Every meter carries the tag {@code stream} (the stream the service's transport reads,
 * {@link WorkerService#stream()}) plus the tags given to the constructor.
 * <table>
 *   <caption>meters and what they count</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>meaning</th></tr>
 *   <tr><td>{@value #PROCESSED}</td><td>counter</td><td></td>
 *       <td>processing attempts that ran to an outcome: succeeded + failed</td></tr>
 *   <tr><td>{@value #SUCCEEDED}</td><td>counter</td><td></td><td>attempts that succeeded</td></tr>
 *   <tr><td>{@value #FAILED}</td><td>counter</td><td>{@code category}</td>
 *       <td>attempts that failed, by {@link ErrorCategory} in lower case; malformed entries count as
 *       {@code permanent}</td></tr>
 *   <tr><td>{@value #RETRIED}</td><td>counter</td><td></td>
 *       <td>retries run in place (transient) or scheduled (recoverable)</td></tr>
 *   <tr><td>{@value #DEAD_LETTERED}</td><td>counter</td><td>{@code category}</td>
 *       <td>events moved to the dead-letter stream, by the category of their last failure</td></tr>
 *   <tr><td>{@value #DUPLICATES}</td><td>counter</td><td></td>
 *       <td>redeliveries of completed events, acknowledged without running</td></tr>
 *   <tr><td>{@value #LOCK_CONTENDED}</td><td>counter</td><td></td>
 *       <td>deliveries put back because another holder had the execution's lock</td></tr>
 *   <tr><td>{@value #LEASE_LOST}</td><td>counter</td><td></td>
 *       <td>attempts whose lock lease was lost while the handler ran</td></tr>
 *   <tr><td>{@value #ACTIVE}</td><td>gauge</td><td></td><td>events being processed now</td></tr>
 *   <tr><td>{@value #WORKERS}</td><td>gauge</td><td>{@code status}</td>
 *       <td>workers by health: {@code healthy}, {@code degraded}, {@code unhealthy}</td></tr>
 *   <tr><td>{@value #PARTITIONS_OWNED}</td><td>gauge</td><td></td>
 *       <td>partitions this process owns; NaN when the stream is not partitioned</td></tr>
 *   <tr><td>{@value #KEYS_HELD}</td><td>gauge</td><td></td>
 *       <td>lock keys whose later events wait behind a recoverable retry's backoff (ordered
 *       transports); NaN otherwise</td></tr>
 *   <tr><td>{@value #KEYS_HELD_LONGEST}</td><td>gauge</td><td></td>
 *       <td>seconds the longest-held key has waited behind a retry</td></tr>
 *   <tr><td>{@value #LATENESS}</td><td>timer</td><td>{@code source}</td>
 *       <td>from the due time of a delayed event ({@code source=delayed}) or a schedule's occurrence
 *       ({@code source=schedule}), its {@code due-at} header, to its first attempt's start in this
 *       process; its count is the number of such events started here</td></tr>
 *   <tr><td>{@value #LATE}</td><td>counter</td><td>{@code source}</td>
 *       <td>of those, the ones that started more than the binder's {@code lateAfter} (1 s unless
 *       given) after their due time</td></tr>
 *   <tr><td>{@value #DELAYED_WAITING}</td><td>gauge</td><td></td>
 *       <td>delayed events of the stream waiting for their due time; NaN when the transport keeps
 *       none</td></tr>
 *   <tr><td>{@value #SCHEDULES}</td><td>gauge</td><td>{@code state}</td>
 *       <td>schedules of the stream, {@code active} or {@code paused}; NaN when the transport keeps
 *       none</td></tr>
 *   <tr><td>{@value #OCCURRENCES_FIRED}</td><td>gauge</td><td></td>
 *       <td>occurrences the stream's schedules fired by their times (triggers not counted), summed
 *       over the schedules that exist</td></tr>
 *   <tr><td>{@value #OCCURRENCES_SKIPPED}</td><td>gauge</td><td></td>
 *       <td>occurrences their misfire and overlap policies skipped, summed likewise</td></tr>
 *   <tr><td>{@value #PROCESSING}</td><td>timer</td><td>{@code outcome}</td>
 *       <td>time spent in the handler per attempt, {@code outcome} = {@code succeeded} or
 *       {@code failed}; publishes p50, p95, p99 and a percentile histogram (Prometheus shows the
 *       histogram only: use {@code histogram_quantile})</td></tr>
 * </table>
 *
 * <h2>Counting</h2>
 * All counters and the timer count {@link EventOutcome}s the listener sees, so they agree with
 * each other by construction; the gauges read {@link WorkerService#health()} at each scrape. A
 * failed attempt is an outcome of kind {@code RETRYING}, {@code RETRY_SCHEDULED} or
 * {@code DEAD_LETTERED}. Bound before {@link WorkerService#start()}, the counters equal the
 * snapshot's {@code eventsProcessed}, {@code eventsSucceeded}, {@code eventsFailed},
 * {@code eventsRetried}, {@code eventsDeadLettered} and {@code duplicates}; bound later, they count
 * from the moment of binding (as Micrometer counters usually do).
 *
 * <p>There is no per-worker tag: worker ids change whenever a worker is replaced or the service
 * scales, which would create unbounded series. Add an instance tag through the constructor or the
 * registry's common tags instead. The stream gauges ({@value #LAG}, {@value #PENDING},
 * {@value #RETRY_SCHEDULED}, {@value #DEAD_LETTERS}) read {@link WorkerService#transportStats()}
 * once per scrape (one round trip on Redis) and are NaN while the store cannot be reached or the
 * transport keeps no statistics. Percentiles and histogram buckets can be
 * changed with a {@code MeterFilter} on {@value #PROCESSING}.
 *
 * <p>The schedule gauges read {@code Schedules.list()} of the whole stream, at most once every
 * minute (on Redis that reads and parses every schedule's definition: 1.4-2.2 s for 10,000). Fired and skipped
 * are the counts the schedules keep in the store, which the owner of each partition advances in
 * the same step that publishes or skips an occurrence; they are gauges, not counters, because
 * deleting a schedule takes its counts away (use {@code delta()}, not {@code rate()}, in
 * Prometheus). Which process fired an occurrence is not known to the others, so there is no
 * per-process count of firings; the lateness timer counts occurrences started here.
 *
 * <p>One binder may be bound to several registries. {@link #close()} removes its listeners from
 * the service and its meters from the registries.
 */
public final class WorkflowWorkerMetrics implements MeterBinder, AutoCloseable {

    /** Counter of attempts that ran to an outcome. */
    public static final String PROCESSED = "workflow.worker.events.processed";
    /** Counter of attempts that succeeded. */
    public static final String SUCCEEDED = "workflow.worker.events.succeeded";
    /** Counter of attempts that failed, tagged {@code category}. */
    public static final String FAILED = "workflow.worker.events.failed";
    /** Counter of retries run in place or scheduled. */
    public static final String RETRIED = "workflow.worker.events.retried";
    /** Counter of events dead-lettered, tagged {@code category}. */
    public static final String DEAD_LETTERED = "workflow.worker.events.dead.lettered";
    /** Counter of redeliveries of completed events. */
    public static final String DUPLICATES = "workflow.worker.events.duplicates";
    /** Counter of deliveries put back because the lock was busy. */
    public static final String LOCK_CONTENDED = "workflow.worker.events.lock.contended";
    /** Counter of attempts whose lease was lost. */
    public static final String LEASE_LOST = "workflow.worker.events.lease.lost";
    /** Gauge of events being processed. */
    public static final String ACTIVE = "workflow.worker.events.active";
    /** Gauge of workers, tagged {@code status}. */
    public static final String WORKERS = "workflow.worker.workers";
    /** Gauge of stream entries not yet delivered to the group; NaN where unknown (a partitioned stream). */
    public static final String LAG = "workflow.worker.stream.lag";
    /** Gauge of stream entries delivered and not yet settled. */
    public static final String PENDING = "workflow.worker.stream.pending";
    /** Gauge of events waiting for a delayed retry. */
    public static final String RETRY_SCHEDULED = "workflow.worker.stream.retry.scheduled";
    /** Gauge of entries in the dead-letter stream. */
    public static final String DEAD_LETTERS = "workflow.worker.stream.dead.letters";
    /** Gauge of partitions this process owns (NaN when the stream is not partitioned). */
    public static final String PARTITIONS_OWNED = "workflow.worker.partitions.owned";
    /** Gauge of lock keys whose events wait behind a retry (NaN when the transport does not order per key). */
    public static final String KEYS_HELD = "workflow.worker.keys.held";
    /** Gauge of how long the longest-held key has waited behind a retry, in seconds. */
    public static final String KEYS_HELD_LONGEST = "workflow.worker.keys.held.longest.seconds";
    /** Timer of handler time per attempt, tagged {@code outcome}. */
    public static final String PROCESSING = "workflow.worker.processing";
    /**
     * Timer of how late delayed events and schedule occurrences started: from their due time to
     * their first attempt's start, tagged {@code source} ({@code delayed} or {@code schedule}).
     */
    public static final String LATENESS = "workflow.worker.events.lateness";
    /** Gauge of delayed events waiting for their due time (NaN when the transport cannot delay events). */
    public static final String DELAYED_WAITING = "workflow.worker.delayed.waiting";
    /**
     * Counter of delayed events and schedule occurrences whose first attempt started more than
     * {@code lateAfter} after their due time, tagged {@code source} ({@code delayed} or {@code schedule}).
     */
    public static final String LATE = "workflow.worker.events.late";
    /** Gauge of the stream's schedules, tagged {@code state} ({@code active} or {@code paused}). */
    public static final String SCHEDULES = "workflow.worker.schedules";
    /** Gauge of the occurrences the stream's schedules fired by their times, summed over the schedules that exist. */
    public static final String OCCURRENCES_FIRED = "workflow.worker.schedules.occurrences.fired";
    /** Gauge of the occurrences the stream's schedules skipped (misfire and overlap policies), summed likewise. */
    public static final String OCCURRENCES_SKIPPED = "workflow.worker.schedules.occurrences.skipped";
    /** How late a delayed event or an occurrence may start before {@value #LATE} counts it, unless the constructor says. */
    public static final Duration DEFAULT_LATE_AFTER = Duration.ofSeconds(1);

    private final WorkerService service;
    private final Tags tags;
    private final long lateAfterMillis;
    private final List<Binding> bindings = new CopyOnWriteArrayList<>();

    /**
     * Observes a service, with no extra tags.
     *
     * @param service the service to observe
     * @throws NullPointerException if {@code service} is null
     */
    public WorkflowWorkerMetrics(WorkerService service) {
        this(service, Tags.empty());
    }

    /**
     * Observes a service, adding tags to every meter.
     *
     * @param service the service to observe
     * @param tags    tags added to every meter, after {@code stream}
     * @throws NullPointerException if an argument is null
     */
    public WorkflowWorkerMetrics(WorkerService service, Iterable<Tag> tags) {
        this(service, tags, DEFAULT_LATE_AFTER);
    }

    /**
     * Observes a service, adding tags to every meter, with the lateness above which
     * {@value #LATE} counts a delayed event or an occurrence.
     *
     * @param service   the service to observe
     * @param tags      tags added to every meter, after {@code stream}
     * @param lateAfter how late a start may be and still not count as late; zero or positive
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code lateAfter} is negative
     */
    public WorkflowWorkerMetrics(WorkerService service, Iterable<Tag> tags, Duration lateAfter) {
        this.service = Objects.requireNonNull(service, "service");
        this.tags = Tags.of("stream", service.stream()).and(Objects.requireNonNull(tags, "tags"));
        if (Objects.requireNonNull(lateAfter, "lateAfter").isNegative()) {
            throw new IllegalArgumentException("lateAfter must be zero or positive, was " + lateAfter);
        }
        this.lateAfterMillis = lateAfter.toMillis();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Binding binding = new Binding(registry);
        bindings.add(binding);
        service.addListener(binding);
    }

    /** Removes the listeners from the service and the meters from every registry bound to. Idempotent. */
    @Override
    public void close() {
        for (Binding b : bindings) {
            if (bindings.remove(b)) {
                service.removeListener(b);
                b.meters.forEach(b.registry::remove);
            }
        }
    }

    /** The meters of one registry and the listener that feeds them. */
    private final class Binding implements WorkerListener {
        final MeterRegistry registry;
        final CopyOnWriteArrayList<Meter> meters = new CopyOnWriteArrayList<>();
        final Counter processed;
        final Counter succeeded;
        final Map<ErrorCategory, Counter> failed = new EnumMap<>(ErrorCategory.class);
        final Counter retried;
        final Map<ErrorCategory, Counter> deadLettered = new EnumMap<>(ErrorCategory.class);
        final Counter duplicates;
        final Counter contended;
        final Counter leaseLost;
        final Timer succeededTime;
        final Timer failedTime;
        final Timer delayedLateness;
        final Timer scheduleLateness;
        final Counter delayedLate;
        final Counter scheduleLate;

        Binding(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            processed = counter(PROCESSED, "Processing attempts that ran to an outcome (succeeded + failed)", Tags.empty());
            succeeded = counter(SUCCEEDED, "Processing attempts that succeeded", Tags.empty());
            retried = counter(RETRIED, "Retries run in place (transient) or scheduled (recoverable)", Tags.empty());
            duplicates = counter(DUPLICATES, "Redeliveries of completed events, acknowledged without running",
                    Tags.empty());
            contended = counter(LOCK_CONTENDED, "Deliveries put back because the execution's lock was busy",
                    Tags.empty());
            leaseLost = counter(LEASE_LOST, "Attempts whose lock lease was lost while the handler ran", Tags.empty());
            // Registered up front so every series exists (at zero) from the first scrape.
            for (ErrorCategory c : ErrorCategory.values()) {
                failed.put(c, counter(FAILED, "Processing attempts that failed, by error category",
                        Tags.of("category", c.wireValue())));
                deadLettered.put(c, counter(DEAD_LETTERED, "Events moved to the dead-letter stream, by category",
                        Tags.of("category", c.wireValue())));
            }
            succeededTime = timer("succeeded");
            failedTime = timer("failed");
            delayedLateness = latenessTimer("delayed");
            scheduleLateness = latenessTimer("schedule");
            delayedLate = counter(LATE, "Delayed events and occurrences that started late", Tags.of("source", "delayed"));
            scheduleLate = counter(LATE, "Delayed events and occurrences that started late", Tags.of("source", "schedule"));
            ScheduleTotals totals = new ScheduleTotals(service, registry.config().clock());
            scheduleGauge(SCHEDULES, "Schedules of the stream, by state", Tags.of("state", "active"),
                    ScheduleTotals.Snapshot::active, totals);
            scheduleGauge(SCHEDULES, "Schedules of the stream, by state", Tags.of("state", "paused"),
                    ScheduleTotals.Snapshot::paused, totals);
            scheduleGauge(OCCURRENCES_FIRED, "Occurrences the stream's schedules fired by their times", Tags.empty(),
                    ScheduleTotals.Snapshot::fired, totals);
            scheduleGauge(OCCURRENCES_SKIPPED, "Occurrences the stream's schedules skipped by their policies",
                    Tags.empty(), ScheduleTotals.Snapshot::skipped, totals);
            Gauge waiting = Gauge.builder(DELAYED_WAITING, service, s -> {
                try {
                    return s.delayed().map(d -> (double) d.waiting()).orElse(Double.NaN);
                } catch (RuntimeException e) {
                    return Double.NaN; // the store is unreachable: no value rather than a failed scrape
                }
            }).description("Delayed events waiting for their due time").tags(tags).strongReference(true)
                    .register(registry);
            meters.add(waiting);
            gauge(ACTIVE, "Events being processed now", Tags.empty(), h -> h.activeEvents());
            streamGauge(LAG, "Stream entries not yet delivered to the consumer group",
                    st -> st.lag() < 0 ? Double.NaN : st.lag());
            streamGauge(PENDING, "Stream entries delivered and not yet settled", st -> st.pending());
            streamGauge(RETRY_SCHEDULED, "Events waiting for a delayed retry", st -> st.retryScheduled());
            streamGauge(DEAD_LETTERS, "Entries in the dead-letter stream", st -> st.deadLetters());
            gauge(PARTITIONS_OWNED, "Partitions of the stream this process owns", Tags.empty(),
                    h -> h.partitions() == null ? Double.NaN : h.partitions().owned().size());
            gauge(KEYS_HELD, "Lock keys whose later events wait behind a retry's backoff", Tags.empty(),
                    h -> h.retryHolds() == null ? Double.NaN : h.retryHolds().keys());
            gauge(KEYS_HELD_LONGEST, "How long the longest-held key has waited behind a retry", Tags.empty(),
                    h -> h.retryHolds() == null ? Double.NaN : h.retryHolds().longestMillis() / 1000.0);
            for (HealthStatus s : HealthStatus.values()) {
                gauge(WORKERS, "Workers by health status", Tags.of("status", s.jsonValue()), h -> switch (s) {
                    case HEALTHY -> h.healthyWorkers();
                    case DEGRADED -> h.degradedWorkers();
                    case UNHEALTHY -> h.unhealthyWorkers();
                });
            }
        }

        private void streamGauge(String name, String description,
                                 ToDoubleFunction<dev.workflowworker.api.StreamStats> value) {
            Gauge g = Gauge.builder(name, service, s -> {
                try {
                    return s.transportStats().map(value::applyAsDouble).orElse(Double.NaN);
                } catch (RuntimeException e) {
                    // The store is unreachable: no value rather than a failed scrape.
                    return Double.NaN;
                }
            }).description(description).tags(tags).strongReference(true).register(registry);
            meters.add(g);
        }

        private void scheduleGauge(String name, String description, Tags extra,
                                   ToDoubleFunction<ScheduleTotals.Snapshot> value, ScheduleTotals totals) {
            Gauge g = Gauge.builder(name, totals, t -> value.applyAsDouble(t.get()))
                    .description(description).tags(tags).tags(extra).strongReference(true).register(registry);
            meters.add(g);
        }

        private Counter counter(String name, String description, Tags extra) {
            Counter c = Counter.builder(name).description(description).tags(tags).tags(extra).register(registry);
            meters.addIfAbsent(c);
            return c;
        }

        private Timer timer(String outcome) {
            Timer t = Timer.builder(PROCESSING)
                    .description("Time spent in the handler per processing attempt")
                    .tags(tags).tag("outcome", outcome)
                    .publishPercentiles(0.5, 0.95, 0.99)
                    .publishPercentileHistogram()
                    .register(registry);
            meters.add(t);
            return t;
        }

        private Timer latenessTimer(String source) {
            Timer t = Timer.builder(LATENESS)
                    .description("From an event's due time to the start of its first attempt")
                    .tags(tags).tag("source", source)
                    .publishPercentiles(0.5, 0.99)
                    .publishPercentileHistogram()
                    .register(registry);
            meters.add(t);
            return t;
        }

        @Override
        public void onEventStarted(EventContext context) {
            String due = context.attempt() == 1 ? context.event().headers().get(DelayedEvents.DUE_AT_HEADER) : null;
            if (due == null) {
                return;
            }
            long dueMillis;
            try {
                dueMillis = Instant.parse(due).toEpochMilli();
            } catch (DateTimeParseException e) {
                return; // a foreign producer's header: nothing to measure
            }
            long late = Math.max(0, registry.config().clock().wallTime() - dueMillis);
            boolean occurrence = context.event().headers().containsKey(Schedule.SCHEDULE_ID_HEADER);
            (occurrence ? scheduleLateness : delayedLateness).record(late, TimeUnit.MILLISECONDS);
            if (late > lateAfterMillis) {
                (occurrence ? scheduleLate : delayedLate).increment();
            }
        }

        private void gauge(String name, String description, Tags extra, ToDoubleFunction<HealthSnapshot> value) {
            // Strong reference: the binder, not the registry, decides how long the service is observed.
            Gauge g = Gauge.builder(name, service, s -> value.applyAsDouble(s.health()))
                    .description(description).tags(tags).tags(extra).strongReference(true).register(registry);
            meters.add(g);
        }

        @Override
        public void onOutcome(EventOutcome o) {
            switch (o.kind()) {
                case SUCCEEDED -> {
                    processed.increment();
                    succeeded.increment();
                    succeededTime.record(o.processingTime());
                }
                case RETRYING, RETRY_SCHEDULED -> {
                    failedAttempt(o);
                    retried.increment();
                }
                case DEAD_LETTERED -> {
                    failedAttempt(o);
                    deadLettered(o.category()).increment();
                }
                case DUPLICATE -> duplicates.increment();
                case LOCK_CONTENDED -> contended.increment();
                case LEASE_LOST -> leaseLost.increment();
                case RELEASED -> {
                    // Handed back at shutdown: neither success nor failure, and not an attempt.
                }
            }
        }

        private void failedAttempt(EventOutcome o) {
            processed.increment();
            failed(o.category()).increment();
            // A malformed entry never reached a handler; its zero time would skew the percentiles.
            if (o.event() != null) {
                failedTime.record(o.processingTime());
            }
        }

        private Counter failed(ErrorCategory c) {
            return c != null ? failed.get(c) : counter(FAILED, "Processing attempts that failed, by error category",
                    Tags.of("category", "unknown"));
        }

        private Counter deadLettered(ErrorCategory c) {
            return c != null ? deadLettered.get(c) : counter(DEAD_LETTERED,
                    "Events moved to the dead-letter stream, by category", Tags.of("category", "unknown"));
        }
    }
}
