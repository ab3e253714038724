package dev.workflowworker.core.schedule;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A recurring schedule: when it fires (a cron expression in a time zone, or a fixed interval),
 * what each occurrence publishes (an event built from a template), and what happens when
 * occurrences are missed or would overlap. Immutable; built and checked by {@link Builder}, so a
 * schedule that exists is one that can fire.
 *
 * <p>Every occurrence has a scheduled instant, and its event id is
 * {@code <schedule id>:<scheduled epoch millis>} ({@link #occurrenceId(long)}): whoever fires an
 * occurrence again — a new owner after a failover, a retried script — publishes the same id, which
 * the transports recognise as a duplicate. {@link FireTimes} computes the instants.
 *
 * <p>Cron expressions are read in {@link #zone()} as wall-clock times. When the clocks spring
 * forward, a time in the gap fires at the same offset into the new time ({@code 02:30} on a
 * one-hour gap fires at {@code 03:30}), or not at all with {@link Gap#SKIP}. When they fall back, a
 * time in the repeated hour fires once, at its first occurrence. Fixed intervals are counted in
 * absolute time from {@link #start()} (or the epoch) and ignore the zone.
 */
public final class Schedule {

    /** What happens to occurrences that were due while nobody could fire them (all owners down). */
    public enum Misfire {
        /** The missed occurrences fire once, as the latest of them; the others are counted as skipped. */
        FIRE_ONCE,
        /** Each missed occurrence within {@link #catchUpWindow()} fires; older ones are skipped. */
        FIRE_ALL,
        /** Missed occurrences are skipped and counted; the schedule resumes with the next one. */
        SKIP
    }

    /** What happens when an occurrence is due while the previous one has not completed yet. */
    public enum Overlap {
        /** The new occurrence is skipped and counted. */
        SKIP,
        /** One occurrence waits for the running one and fires when it completes; further ones are skipped. */
        BUFFER_ONE,
        /** The new occurrence fires; both run (they share the template's execution id, so order still holds). */
        ALLOW
    }

    /** What a cron time that does not exist on a spring-forward day does. */
    public enum Gap {
        /** It fires at the same offset into the new time: 02:30 in a one-hour gap fires at 03:30. */
        SHIFT,
        /** It does not fire that day (and is not counted as skipped). */
        SKIP
    }

    /** The header naming the schedule that published an occurrence. */
    public static final String SCHEDULE_ID_HEADER = "schedule-id";
    /** The header holding an occurrence's scheduled instant, as ISO-8601. */
    public static final String SCHEDULED_AT_HEADER = "scheduled-at";

    private final String id;
    private final String cron;
    private final Duration interval;
    private final ZoneId zone;
    private final String eventType;
    private final String eventName;
    private final String executionId;
    private final String tenant;
    private final Map<String, Object> payload;
    private final Instant start;
    private final Instant end;
    private final long limit;
    private final Duration jitter;
    private final Misfire misfire;
    private final Duration misfireThreshold;
    private final Duration catchUpWindow;
    private final Overlap overlap;
    private final Gap gap;
    private final boolean paused;
    private final String managedBy;

    private Schedule(Builder b) {
        this.id = b.id;
        this.cron = b.cron;
        this.interval = b.interval;
        this.zone = b.zone;
        this.eventType = b.eventType;
        this.eventName = b.eventName;
        this.executionId = b.executionId;
        this.tenant = b.tenant;
        this.payload = b.payload;
        this.start = b.start;
        this.end = b.end;
        this.limit = b.limit;
        this.jitter = b.jitter;
        this.misfire = b.misfire;
        this.misfireThreshold = b.misfireThreshold;
        this.catchUpWindow = b.catchUpWindow;
        this.overlap = b.overlap;
        this.gap = b.gap;
        this.paused = b.paused;
        this.managedBy = b.managedBy;
    }

    /**
     * A schedule firing at the times of a cron expression: five fields (minute hour day-of-month
     * month day-of-week), six with seconds first, or a macro ({@code @yearly}, {@code @monthly},
     * {@code @weekly}, {@code @daily}, {@code @midnight}, {@code @hourly}).
     *
     * @param id         the schedule's id: letters, digits and {@code . _ - : /}
     * @param expression the cron expression, checked by {@link Builder#build()}
     * @return a builder of the schedule
     */
    public static Builder cron(String id, String expression) {
        Builder b = new Builder(id);
        b.cron = expression;
        return b;
    }

    /**
     * A schedule firing every {@code interval} (at least one second), counted from its start or the epoch.
     *
     * @param id       the schedule's id: letters, digits and {@code . _ - : /}
     * @param interval the time between occurrences
     * @return a builder of the schedule
     */
    public static Builder every(String id, Duration interval) {
        Builder b = new Builder(id);
        b.interval = interval;
        return b;
    }

    /** {@return the schedule's id, unique per stream} */
    public String id() { return id; }

    /** {@return the cron expression, or null for a fixed interval} */
    public String cron() { return cron; }

    /** {@return the fixed interval, or null for a cron schedule} */
    public Duration interval() { return interval; }

    /** {@return the zone cron times are read in; UTC unless set} */
    public ZoneId zone() { return zone; }

    /** {@return the type of each occurrence's event} */
    public String eventType() { return eventType; }

    /** {@return the name of each occurrence's event, or null} */
    public String eventName() { return eventName; }

    /** {@return the execution id of each occurrence's event, or null: then each occurrence is its own execution} */
    public String executionId() { return executionId; }

    /** {@return the tenant of each occurrence's event, or null} */
    public String tenant() { return tenant; }

    /** {@return the payload of each occurrence's event; empty when none} */
    public Map<String, Object> payload() { return payload; }

    /** {@return the first instant an occurrence may be scheduled at, or null} */
    public Instant start() { return start; }

    /** {@return the last instant an occurrence may be scheduled at, or null} */
    public Instant end() { return end; }

    /** {@return how many occurrences fire in all; 0 for no limit} */
    public long limit() { return limit; }

    /** {@return the most an occurrence is delayed past its scheduled instant to spread load; zero for none} */
    public Duration jitter() { return jitter; }

    /** {@return what happens to missed occurrences} */
    public Misfire misfire() { return misfire; }

    /** {@return how late an occurrence may fire and still count as on time rather than missed} */
    public Duration misfireThreshold() { return misfireThreshold; }

    /** {@return how far back {@link Misfire#FIRE_ALL} fires missed occurrences} */
    public Duration catchUpWindow() { return catchUpWindow; }

    /** {@return what happens when an occurrence is due while the previous one runs} */
    public Overlap overlap() { return overlap; }

    /** {@return what a cron time in a spring-forward gap does} */
    public Gap gap() { return gap; }

    /** {@return whether the schedule is paused: it keeps its place but fires nothing} */
    public boolean paused() { return paused; }

    /**
     * {@return who declared the schedule, or null} A tool that keeps schedules in step with its
     * own declarations (the Spring Boot starter) marks those it wrote, so that it can later tell
     * them from schedules others made. Kept with the schedule, never published with its occurrences.
     */
    public String managedBy() { return managedBy; }

    /**
     * {@return the event id of the occurrence scheduled at {@code scheduledMillis}}
     *
     * @param scheduledMillis the occurrence's scheduled instant, in epoch millis
     */
    public String occurrenceId(long scheduledMillis) {
        return id + ":" + scheduledMillis;
    }

    /**
     * {@return the event the occurrence scheduled at {@code scheduledMillis} publishes}
     *
     * @param scheduledMillis the occurrence's scheduled instant, in epoch millis
     * @param dueMillis       when it is due, its jitter added ({@link FireTimes#dueAt(long)})
     */
    public WorkflowEvent occurrence(long scheduledMillis, long dueMillis) {
        Instant at = Instant.ofEpochMilli(scheduledMillis);
        return WorkflowEvent.builder(eventType)
                .eventId(occurrenceId(scheduledMillis))
                .eventName(eventName)
                .executionId(executionId)
                .tenant(tenant)
                .timestamp(at)
                .payload(payload)
                .headers(Map.of(SCHEDULE_ID_HEADER, id, SCHEDULED_AT_HEADER, at.toString(),
                        DelayedEvents.DUE_AT_HEADER, Instant.ofEpochMilli(dueMillis).toString()))
                .build();
    }

    /**
     * {@return the event a trigger outside the schedule's times publishes} Its id is
     * {@code <schedule id>:trigger:<random>}: never a scheduled occurrence's, never another
     * trigger's, so none of them is taken for a duplicate of another.
     *
     * @param nowMillis when it is triggered, in epoch millis
     */
    public WorkflowEvent triggered(long nowMillis) {
        return occurrence(nowMillis, nowMillis).toBuilder()
                .eventId(id + ":trigger:" + java.util.UUID.randomUUID()).build();
    }

    /** {@return a builder holding this schedule's settings, to change some of them} */
    public Builder toBuilder() {
        Builder b = new Builder(id);
        b.cron = cron;
        b.interval = interval;
        b.zone = zone;
        b.eventType = eventType;
        b.eventName = eventName;
        b.executionId = executionId;
        b.tenant = tenant;
        b.payload = payload;
        b.start = start;
        b.end = end;
        b.limit = limit;
        b.jitter = jitter;
        b.misfire = misfire;
        b.misfireThreshold = misfireThreshold;
        b.catchUpWindow = catchUpWindow;
        b.overlap = overlap;
        b.gap = gap;
        b.paused = paused;
        b.managedBy = managedBy;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Schedule s)) {
            return false;
        }
        return limit == s.limit && paused == s.paused && id.equals(s.id) && Objects.equals(cron, s.cron)
                && Objects.equals(interval, s.interval) && zone.equals(s.zone) && eventType.equals(s.eventType)
                && Objects.equals(eventName, s.eventName) && Objects.equals(executionId, s.executionId)
                && Objects.equals(tenant, s.tenant) && payload.equals(s.payload) && Objects.equals(start, s.start)
                && Objects.equals(end, s.end) && jitter.equals(s.jitter) && misfire == s.misfire
                && misfireThreshold.equals(s.misfireThreshold) && catchUpWindow.equals(s.catchUpWindow)
                && overlap == s.overlap && gap == s.gap && Objects.equals(managedBy, s.managedBy);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, cron, interval, zone, eventType, executionId, start, end, limit);
    }

    @Override
    public String toString() {
        return "Schedule[" + id + ", " + (cron != null ? "cron '" + cron + "' in " + zone : "every " + interval)
                + ", " + eventType + (paused ? ", paused" : "") + "]";
    }

    /** Collects and checks a schedule's settings; {@link #build()} names the first wrong one. */
    public static final class Builder {
        private final String id;
        private String cron;
        private Duration interval;
        private ZoneId zone = ZoneOffset.UTC;
        private String eventType;
        private String eventName;
        private String executionId;
        private String tenant;
        private Map<String, Object> payload = Map.of();
        private Instant start;
        private Instant end;
        private long limit;
        private Duration jitter = Duration.ZERO;
        private Misfire misfire = Misfire.FIRE_ONCE;
        private Duration misfireThreshold = Duration.ofMinutes(1);
        private Duration catchUpWindow = Duration.ofHours(1);
        private Overlap overlap = Overlap.ALLOW;
        private Gap gap = Gap.SHIFT;
        private boolean paused;
        private String managedBy;

        private Builder(String id) {
            this.id = id;
        }

        /**
         * The zone cron times are read in (an IANA id such as {@code Europe/Berlin}); default UTC.
         *
         * @param v the value
         * @return this builder
         */
        public Builder zone(ZoneId v) { this.zone = v; return this; }

        /**
         * The zone by IANA id, e.g. {@code America/New_York}.
         *
         * @param v the value
         * @return this builder
         */
        public Builder zone(String v) {
            try {
                return zone(ZoneId.of(v));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("schedule '" + id + "': zone '" + v + "' is not a time zone: "
                        + e.getMessage(), e);
            }
        }

        /**
         * The type of each occurrence's event (required).
         *
         * @param v the value
         * @return this builder
         */
        public Builder eventType(String v) { this.eventType = v; return this; }

        /**
         * The name of each occurrence's event.
         *
         * @param v the value
         * @return this builder
         */
        public Builder eventName(String v) { this.eventName = v; return this; }

        /**
         * The execution every occurrence belongs to; occurrences of one execution run in order.
         *
         * @param v the value
         * @return this builder
         */
        public Builder executionId(String v) { this.executionId = v; return this; }

        /**
         * The tenant of each occurrence's event.
         *
         * @param v the value
         * @return this builder
         */
        public Builder tenant(String v) { this.tenant = v; return this; }

        /**
         * The payload of each occurrence's event (copied).
         *
         * @param v the value
         * @return this builder
         */
        public Builder payload(Map<String, ?> v) {
            this.payload = v == null || v.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(v));
            return this;
        }

        /**
         * No occurrence is scheduled before this instant; intervals count from it.
         *
         * @param v the value
         * @return this builder
         */
        public Builder start(Instant v) { this.start = v; return this; }

        /**
         * No occurrence is scheduled after this instant.
         *
         * @param v the value
         * @return this builder
         */
        public Builder end(Instant v) { this.end = v; return this; }

        /**
         * At most this many occurrences fire in all; 0 (default) for no limit.
         *
         * @param v the value
         * @return this builder
         */
        public Builder limit(long v) { this.limit = v; return this; }

        /**
         * Each occurrence fires up to this much after its scheduled instant, the same amount wherever it is computed.
         *
         * @param v the value
         * @return this builder
         */
        public Builder jitter(Duration v) { this.jitter = v; return this; }

        /**
         * What happens to missed occurrences; default {@link Misfire#FIRE_ONCE}.
         *
         * @param v the value
         * @return this builder
         */
        public Builder misfire(Misfire v) { this.misfire = v; return this; }

        /**
         * How late an occurrence may fire and still be on time; default one minute.
         *
         * @param v the value
         * @return this builder
         */
        public Builder misfireThreshold(Duration v) { this.misfireThreshold = v; return this; }

        /**
         * How far back {@link Misfire#FIRE_ALL} reaches; default one hour.
         *
         * @param v the value
         * @return this builder
         */
        public Builder catchUpWindow(Duration v) { this.catchUpWindow = v; return this; }

        /**
         * What happens when an occurrence is due while the previous one runs; default {@link Overlap#ALLOW}.
         *
         * @param v the value
         * @return this builder
         */
        public Builder overlap(Overlap v) { this.overlap = v; return this; }

        /**
         * What a cron time in a spring-forward gap does; default {@link Gap#SHIFT}.
         *
         * @param v the value
         * @return this builder
         */
        public Builder gap(Gap v) { this.gap = v; return this; }

        /**
         * Whether the schedule starts paused.
         *
         * @param v the value
         * @return this builder
         */
        public Builder paused(boolean v) { this.paused = v; return this; }

        /**
         * Marks who declared the schedule ({@link Schedule#managedBy()}); null or blank for nobody.
         *
         * @param v the value, at most 200 characters
         * @return this builder
         */
        public Builder managedBy(String v) { this.managedBy = v == null || v.isBlank() ? null : v; return this; }

        /**
         * Checks the settings.
         *
         * @return the schedule
         * @throws IllegalArgumentException naming the first setting that is wrong
         */
        public Schedule build() {
            // Made before it is checked, so the rules read one set of names; it is thrown away if wrong.
            Schedule s = new Schedule(this);
            ScheduleRules.check(s);
            return s;
        }
    }
}
