package dev.workflowworker.core.memory;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.RetryHolds;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.wire.WireFormat;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.schedule.Scheduling;
import dev.workflowworker.core.order.KeySequencer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stream with one consumer group, held in memory: the embedded default transport.
 *
 * <p>It keeps the Redis transport's semantics within one JVM: a read delivery is pending and
 * invisible to other consumers until settled; retries wait in a due-time set; stalled deliveries
 * can be claimed; every settle operation takes the delivery out of the pending list exactly
 * once, so two consumers can never both settle it. The hot path uses concurrent collections,
 * not one global lock.
 */
public final class InMemoryEventTransport implements EventTransport, Scheduling {

    /** Default stream name, the one the Redis transport reads by default, so logs and tags match. */
    public static final String DEFAULT_STREAM = "workflow:events:global";

    private final String stream;
    private final TimeSource clock;
    private final WireFormat codec;
    // Package-private: the consumers (MemoryConsumer and its two kinds) work on these.
    final InMemoryLockProvider locks;
    final PendingList pending;
    final ProcessedMarkers markers;
    private final ConcurrentLinkedQueue<InMemoryDeadLetter> deadLetters = new ConcurrentLinkedQueue<>();
    private final AtomicLong seq = new AtomicLong();
    /** Non-null when events of one key are delivered one at a time in publish order. */
    final KeySequencer sequencer;
    /** Non-null otherwise. */
    final SharedQueue queue;
    final MemoryTimers timers;
    /** Event ids dead-lettered, for a schedule's overlap policy: a dead-lettered occurrence is finished. */
    private final Set<String> deadLettered = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private InMemoryEventTransport(Builder b) {
        this.stream = b.stream;
        this.clock = b.clock;
        this.codec = WireFormat.withMaxPayloadBytes(b.maxPayloadBytes);
        this.locks = new InMemoryLockProvider(b.clock);
        this.pending = new PendingList(b.clock);
        this.markers = new ProcessedMarkers(b.clock, b.markerTtl.toMillis());
        this.sequencer = b.ordered ? new KeySequencer(b.clock) : null;
        this.queue = b.ordered ? null : new SharedQueue(b.clock);
        this.timers = new MemoryTimers(b.clock, e -> enqueue(Delivery.of(nextId(), e, 1, Map.of())),
                id -> deadLettered.contains(id) || !markers.completedAmong(Set.of(id)).isEmpty(),
                this::checkPublishable, sequencer != null ? sequencer::wake : queue::wake);
    }

    /** Events published to wait for a due time; moved into the stream by the readers at that time. */
    @Override
    public Optional<DelayedEvents> delayed() {
        return Optional.of(timers);
    }

    /** Recurring schedules, fired by the readers when due. */
    @Override
    public Optional<Schedules> schedules() {
        return Optional.of(timers);
    }


    /**
     * {@return true when events of one lock key are delivered one at a time, in publish order
     * (the default); false for the shared-queue behaviour of {@link Builder#ordered(boolean)}}
     */
    public boolean ordered() {
        return sequencer != null;
    }

    /** Where a new or re-queued delivery goes: behind its key when ordered, else to the shared queue. */
    private void enqueue(Delivery d) {
        if (sequencer != null) {
            sequencer.offer(0, d);
        } else {
            queue.add(d);
        }
    }

    /**
     * {@return a transport with defaults: stream {@value #DEFAULT_STREAM}, system clock, 24 h
     * markers, 1 MiB payload limit}
     */
    public static InMemoryEventTransport create() {
        return builder().build();
    }

    /** {@return a builder, for a fake clock or other limits than those of {@link #create()}} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the name given to {@link Builder#stream(String)}, {@value #DEFAULT_STREAM} by default} */
    @Override
    public String stream() {
        return stream;
    }

    @Override
    public Optional<LockProvider> lockProvider() {
        return Optional.of(locks);
    }

    String nextId() {
        return clock.wallMillis() + "-" + seq.incrementAndGet();
    }

    /**
     * @throws IllegalArgumentException if the payload exceeds the size limit
     * @throws IllegalStateException    if the transport is closed
     */
    @Override
    public String publish(WorkflowEvent event) {
        Objects.requireNonNull(event, "event");
        checkPublishable(event);
        timers.runDue(); // what came due before this event goes ahead of it
        String id = nextId();
        enqueue(Delivery.of(id, event, 1, Map.of()));
        return id;
    }

    private void checkPublishable(WorkflowEvent event) {
        checkOpen();
        if (!event.payload().isEmpty()) {
            codec.encode(event, 1);
        }
    }

    /**
     * Appends raw wire fields, exactly as a foreign producer would with {@code XADD}: the entry is
     * decoded when read and dead-lettered if it is malformed.
     *
     * @param fields the wire fields
     * @return the entry id
     */
    public String publishRaw(Map<String, String> fields) {
        checkOpen();
        String id = nextId();
        enqueue(codec.decode(id, Map.copyOf(fields)));
        return id;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("transport is closed");
        }
    }

    /** {@return the dead letters so far, oldest first, for tests to assert on} */
    public List<InMemoryDeadLetter> deadLetters() {
        return List.copyOf(deadLetters);
    }

    /** {@return how many entries are waiting to be read now} */
    public int readyCount() {
        if (sequencer != null) {
            return Math.max(0, sequencer.size() - pending.size() - sequencer.holds().keys());
        }
        return queue.readyCount();
    }

    /** {@return how many entries are read but not yet settled} */
    public int pendingCount() {
        return pending.size();
    }

    /** {@return how many entries are waiting for a retry} */
    public int scheduledCount() {
        return sequencer != null ? sequencer.holds().keys() : queue.scheduledCount();
    }

    /** Keys held by a retry now; empty for the unordered queue, where a retry does not hold its key. */
    @Override
    public Optional<RetryHolds> retryHolds() {
        if (sequencer == null) {
            return Optional.empty();
        }
        KeySequencer.Holds h = sequencer.holds();
        return Optional.of(new RetryHolds(h.keys(), h.longestMillis()));
    }

    @Override
    public Optional<StreamStats> stats() {
        return Optional.of(new StreamStats(readyCount(), pending.size(), scheduledCount(), deadLetters.size()));
    }

    @Override
    public Consumer openConsumer(String consumerName) {
        Objects.requireNonNull(consumerName, "consumerName");
        return sequencer != null ? new OrderedConsumer(this, consumerName) : new QueueConsumer(this, consumerName);
    }

    /** Closes the transport: polls return nothing, publishing fails. Entries stay inspectable. */
    @Override
    public void close() {
        closed = true;
    }

    boolean isClosed() {
        return closed;
    }

    void addDeadLetter(Delivery delivery, DeadLetter letter) {
        Map<String, String> fields = delivery.fields().isEmpty() && delivery.event() != null
                ? codec.encode(delivery.event(), delivery.attempt()) : delivery.fields();
        deadLetters.add(new InMemoryDeadLetter(delivery.id(), fields, letter));
        if (delivery.eventId() != null) {
            deadLettered.add(delivery.eventId());
        }
    }

    /** Builds {@link InMemoryEventTransport}s. */
    public static final class Builder {
        private String stream = DEFAULT_STREAM;
        private TimeSource clock = TimeSource.system();
        private Duration markerTtl = Duration.ofHours(24);
        private int maxPayloadBytes = WireFormat.DEFAULT_MAX_PAYLOAD_BYTES;
        private boolean ordered = true;

        private Builder() {
        }

        /**
         * Chooses between per-key order (true, the default) and a shared queue (false).
         *
         * <p>Ordered, events of one lock key are delivered one at a time in publish order; the
         * next starts only when the one before is settled, and a recoverable retry keeps its key's
         * place through its backoff, so the key's later events wait while other keys go on. This
         * is what the Redis transport gives with partitions, its default too.
         *
         * <p>Unordered, every event goes to one queue as on the Redis transport's shared stream
         * ({@code partitions(0)}):
         * events of one key never run at the same time (the lock provider sees to that), but a
         * contended or retried event goes back behind later ones.
         *
         * @param v true for per-key order
         * @return this builder
         */
        public Builder ordered(boolean v) {
            ordered = v;
            return this;
        }

        /**
         * Names the stream. Events live in this transport only, so the name is a label for logs
         * and metric tags.
         *
         * @param v the name, not blank
         * @return this builder
         */
        public Builder stream(String v) {
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException("stream must not be blank");
            }
            stream = v;
            return this;
        }

        /**
         * Sets the time source of due times, markers and leases; tests pass a fake one to step
         * through retries and expiries without sleeping.
         *
         * @param v the time source
         * @return this builder
         */
        public Builder timeSource(TimeSource v) {
            clock = Objects.requireNonNull(v, "timeSource");
            return this;
        }

        /**
         * Sets how long a processed marker is kept; within it a redelivered event is recognised as
         * done and not processed twice.
         *
         * @param v the marker lifetime, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder markerTtl(Duration v) {
            Objects.requireNonNull(v, "markerTtl");
            if (v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException("markerTtl must be positive, got " + v);
            }
            markerTtl = v;
            return this;
        }

        /**
         * Sets the largest accepted {@code payload_json}, in UTF-8 bytes, so tests can exercise the
         * same limit a real transport enforces.
         *
         * @param v the limit, at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder maxPayloadBytes(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("maxPayloadBytes must be >= 1, got " + v);
            }
            maxPayloadBytes = v;
            return this;
        }

        /** {@return the transport, open and empty} */
        public InMemoryEventTransport build() {
            return new InMemoryEventTransport(this);
        }
    }
}
