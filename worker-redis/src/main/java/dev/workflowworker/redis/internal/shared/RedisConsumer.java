package dev.workflowworker.redis.internal.shared;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.RedisUnavailableException;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One worker's consumer. Its blocking reads run on a connection of its own; every other
 * operation borrows from the transport's pool, so outcome calls may come from many threads.
 */
public final class RedisConsumer implements EventTransport.LockingConsumer {

    private static final Logger log = LoggerFactory.getLogger(RedisConsumer.class);
    private static final long FIRST_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final String NO_CURSOR = "0-0";
    /** Writes retry members only (JSON arrays of strings that move_due.lua decodes); never reads. */
    private static final ObjectMapper RETRY_JSON = new ObjectMapper();

    private final SharedStream shared;
    private final StreamClient client;
    private final StreamKeys keys;
    private final RedisOptions options;
    private final String name;
    private final BatchLocks batchLocks;
    private final ReentrantLock readLock = new ReentrantLock();
    private volatile Connection connection;
    private volatile boolean closed;
    /** Guarded by readLock. */
    private int consecutiveFailures;
    /** Guarded by readLock; the transport's monotonic time before which the next read attempt waits. */
    private long retryAtNanos;
    private volatile String claimCursor = NO_CURSOR;

    RedisConsumer(SharedStream shared, String name) {
        this.shared = shared;
        this.client = shared.client();
        this.options = client.options();
        this.keys = client.keys();
        this.name = name;
        this.batchLocks = new BatchLocks(shared, this::checkOpen);
    }

    @Override
    public List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        Objects.requireNonNull(maxWait, "maxWait");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        checkOpen();
        readLock.lockInterruptibly();
        try {
            if (!waitOutBackoff(maxWait)) {
                throw new RedisUnavailableException("cannot read from stream " + options.stream() + ": Redis at "
                        + options.endpoint() + " was unreachable, next attempt in "
                        + TimeUnit.NANOSECONDS.toMillis(retryAtNanos - client.clock().nanoTime()) + " ms", null);
            }
            List<Delivery> deliveries;
            try {
                long untilDue = client.call("move due retries", shared::maybeMoveRetries);
                shared.maybeTrim();
                long waitMs = Math.min(maxWait.toMillis(), untilDue);
                deliveries = read(max, waitMs);
                consecutiveFailures = 0;
            } catch (RuntimeException e) {
                if (e instanceof RedisUnavailableException) {
                    onReadFailure();
                }
                // close() from another thread breaks a blocked read on purpose; that is no failure.
                if (closed) {
                    return List.of();
                }
                throw e;
            }
            if (deliveries.isEmpty() && Thread.interrupted()) {
                throw new InterruptedException();
            }
            return deliveries;
        } finally {
            readLock.unlock();
        }
    }

    /** @return false if the backoff after a failure has not elapsed within maxWait */
    private boolean waitOutBackoff(Duration maxWait) throws InterruptedException {
        if (consecutiveFailures == 0) {
            return true;
        }
        long remaining = retryAtNanos - client.clock().nanoTime();
        if (remaining <= 0) {
            return true;
        }
        long pause = Math.min(remaining, maxWait.toNanos());
        TimeUnit.NANOSECONDS.sleep(pause);
        return retryAtNanos - client.clock().nanoTime() <= 0;
    }

    private void onReadFailure() {
        closeConnection();
        consecutiveFailures++;
        long backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(consecutiveFailures - 1, 16));
        retryAtNanos = client.clock().nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
        log.debug("Read from {} failed {} times in a row; next attempt in {} ms",
                options.endpoint(), consecutiveFailures, backoff);
    }

    private List<Delivery> read(int max, long waitMs) {
        return shared.withGroup("read from stream " + options.stream(), () -> {
            Connection c = connection();
            CommandArguments args = new CommandArguments(Protocol.Command.XREADGROUP)
                    .add("GROUP").add(options.group()).add(name).add("COUNT").add(max);
            if (waitMs > 0) {
                args.add("BLOCK").add(waitMs);
            }
            args.add("STREAMS").key(options.stream()).add(">");
            // The blocking read must outlast BLOCK, or the client gives up before Redis answers.
            c.setSoTimeout((int) Math.min(Integer.MAX_VALUE, client.connector().socketTimeoutMillis() + waitMs));
            Object reply;
            try {
                reply = c.executeCommand(args);
            } catch (JedisDataException e) {
                if (!Topology.notRunHere(e)) {
                    throw e;
                }
                // The stream's slot moved (resharding, failover): read again from its new node.
                closeConnection();
                Topology.refresh(client.redis());
                return List.of();
            } finally {
                if (c.isConnected()) {
                    c.rollbackTimeout();
                }
            }
            if (!(reply instanceof List<?> streams) || streams.isEmpty()) {
                return List.of();
            }
            List<?> stream = (List<?>) streams.get(0);
            return StreamEntries.toDeliveries(stream.get(1), client.codec());
        });
    }

    private Connection connection() {
        Connection c = connection;
        if (c == null || !c.isConnected() || c.isBroken()) {
            closeConnection();
            c = client.connector().newDedicatedConnection(client.redis(), options.stream());
            connection = c;
            if (closed) {
                closeConnection();
                throw new IllegalStateException("consumer " + name + " is closed");
            }
        }
        return c;
    }

    private void closeConnection() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (JedisException | IllegalStateException e) {
                log.debug("Closing the read connection of consumer {} failed: {}", name, e.toString());
            }
        }
    }

    /** One script call for the whole batch. */
    @Override
    public Set<String> completedAmong(Collection<String> eventIds) {
        checkOpen();
        if (eventIds.isEmpty()) {
            return Set.of();
        }
        List<String> ids = new ArrayList<>(eventIds);
        List<String> keys = new ArrayList<>(ids.size());
        for (String id : ids) {
            keys.add(this.keys.processedKey(id));
        }
        List<?> flags = (List<?>) client.call("check " + ids.size() + " processed markers",
                () -> client.scripts().existsAll.eval(client.redis(), keys, List.of()));
        Set<String> done = new HashSet<>();
        for (int i = 0; i < ids.size(); i++) {
            if (StreamEntries.number(flags.get(i)) == 1) {
                done.add(ids.get(i));
            }
        }
        return done;
    }

    /** One pipelined round trip takes the batch's locks, draws their fencing tokens and reads their markers. */
    @Override
    public List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl) {
        return batchLocks.acquire(deliveries, ttl);
    }

    /**
     * One script acks the batch, writes its markers and deletes its locks, refusing any delivery
     * whose lock no longer holds its exact value.
     */
    @Override
    public List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held) {
        return batchLocks.completeAndRelease(deliveries, held);
    }

    /** One script call acks the batch and writes its markers, each ack atomically with its marker. */
    @Override
    public void complete(List<Delivery> deliveries) {
        checkOpen();
        List<String> keys = new ArrayList<>(deliveries.size() + 1);
        List<String> args = new ArrayList<>(deliveries.size() + 3);
        keys.add(options.stream());
        args.add(options.group());
        args.add(Long.toString(options.processedTtl().toMillis()));
        args.add(client.clock().instant().toString());
        for (Delivery d : deliveries) {
            String eventId = d.eventId();
            if (eventId == null || eventId.isEmpty()) {
                // No id, nothing to remember: a plain ack is all success can mean.
                acknowledge(d);
                continue;
            }
            keys.add(this.keys.processedKey(eventId));
            args.add(d.id());
        }
        if (keys.size() == 1) {
            return;
        }
        shared.withGroup("complete " + (keys.size() - 1) + " entries", () -> client.scripts().completeAll.eval(
                client.redis(), keys, args, client.waitReplicas(), client.waitMs()));
    }

    @Override
    public void acknowledge(Delivery delivery) {
        checkOpen();
        shared.withGroup("ack entry " + delivery.id(), () -> client.redis().executeCommand(
                new CommandArguments(Protocol.Command.XACK).key(options.stream()).add(options.group())
                        .add(delivery.id())));
    }

    @Override
    public void retryAt(Delivery delivery, Instant dueAt, int attempt) {
        Objects.requireNonNull(dueAt, "dueAt");
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1: " + attempt);
        }
        checkOpen();
        Map<String, String> fields;
        // The entry goes back as it came, fields a foreign producer added included; only the attempt changes.
        if (!delivery.fields().isEmpty()) {
            fields = new LinkedHashMap<>(delivery.fields());
            fields.put(WireFormat.ATTEMPT, Integer.toString(attempt));
        } else {
            fields = client.codec().encode(delivery.event(), attempt);
        }
        List<String> member = new ArrayList<>(fields.size() * 2 + 1);
        // The original id keeps members of distinct deliveries distinct in the set.
        member.add(delivery.id());
        fields.forEach((k, v) -> {
            member.add(k);
            member.add(v);
        });
        String encoded;
        try {
            encoded = RETRY_JSON.writeValueAsString(member);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode retry of entry " + delivery.id(), e);
        }
        long due = dueAt.toEpochMilli();
        Object scheduled = shared.withGroup("reschedule entry " + delivery.id(), () ->
                client.scripts().reschedule.eval(client.redis(),
                        List.of(options.stream(), options.retryKey()),
                        List.of(options.group(), delivery.id(), Long.toString(due), encoded), client.waitReplicas(), client.waitMs()));
        if (StreamEntries.number(scheduled) == 1) {
            shared.noteRetryDue(due);
        } else {
            log.debug("Entry {} was no longer pending; retry not scheduled", delivery.id());
        }
    }

    @Override
    public void deadLetter(Delivery delivery, DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        checkOpen();
        Map<String, String> fields = DeadLetterFormat.encode(delivery.id(), delivery.fields(), letter,
                options.stream());
        List<String> args = new ArrayList<>(4 + fields.size() * 2);
        args.add(options.group());
        args.add(delivery.id());
        args.add(Long.toString(options.deadLetterMaxLength()));
        args.add(Long.toString(options.processedTtl().toMillis()));
        fields.forEach((name, value) -> {
            args.add(name);
            args.add(value);
        });
        List<String> scriptKeys = new ArrayList<>(List.of(options.stream(), options.deadLetterStream()));
        String occurrence = SharedTime.occurrenceId(delivery);
        if (occurrence != null) {
            scriptKeys.add(keys.deadMarkerKey(occurrence)); // its schedule's overlap policy asks whether it ended
        }
        Object id = shared.withGroup("dead-letter entry " + delivery.id(), () ->
                client.scripts().deadLetter.eval(client.redis(), scriptKeys, args, client.waitReplicas(), client.waitMs()));
        if (id == null) {
            log.debug("Entry {} was no longer pending; not dead-lettered again", delivery.id());
        }
    }

    @Override
    public void release(Collection<Delivery> deliveries) {
        if (deliveries.isEmpty() || client.isClosed()) {
            return;
        }
        long released = StreamEntries.number(shared.withGroup("release entries", () ->
                client.scripts().release.eval(client.redis(), List.of(options.stream()), idArgs(deliveries))));
        log.debug("Consumer {} released {} of {} entries for immediate redelivery", name, released, deliveries.size());
    }

    @Override
    public void keepAlive(Collection<Delivery> deliveries) {
        if (deliveries.isEmpty()) {
            return;
        }
        checkOpen();
        shared.withGroup("refresh in-flight entries", () ->
                client.scripts().keepAlive.eval(client.redis(), List.of(options.stream()), idArgs(deliveries)));
    }

    private List<String> idArgs(Collection<Delivery> deliveries) {
        List<String> args = new ArrayList<>(deliveries.size() + 2);
        args.add(options.group());
        args.add(name);
        for (Delivery d : deliveries) {
            args.add(d.id());
        }
        return args;
    }

    @Override
    public List<Delivery> reclaimStalled(Duration minIdle, int max) {
        Objects.requireNonNull(minIdle, "minIdle");
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        checkOpen();
        List<Delivery> claimed = new ArrayList<>();
        // XAUTOCLAIM scans a bounded slice of the pending list per call; a few calls cover more of it.
        for (int round = 0; round < 4 && claimed.size() < max; round++) {
            String cursor = claimCursor;
            int want = max - claimed.size();
            List<?> reply = shared.withGroup("claim stalled entries", () -> (List<?>) client.redis()
                    .executeCommand(new CommandArguments(Protocol.Command.XAUTOCLAIM).key(options.stream())
                            .add(options.group()).add(name).add(Math.max(0, minIdle.toMillis()))
                            .add(cursor).add("COUNT").add(want)));
            String next = StreamEntries.text(reply.get(0));
            claimCursor = next;
            claimed.addAll(StreamEntries.toDeliveries(reply.get(1), client.codec()));
            if (NO_CURSOR.equals(next)) {
                break;
            }
        }
        if (!claimed.isEmpty()) {
            log.info("Consumer {} claimed {} stalled entries idle for more than {}", name, claimed.size(), minIdle);
        }
        try {
            shared.maybeRemoveIdleConsumers(name);
        } catch (RedisUnavailableException | JedisDataException e) {
            log.debug("Removing idle consumers failed: {}", e.toString());
        }
        return claimed;
    }

    @Override
    public void close() {
        closed = true;
        shared.forget(this);
        // Interrupts a read blocked on this connection: the poll sees the closed flag and returns empty.
        closeConnection();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("consumer " + name + " is closed");
        }
        client.checkOpen();
    }
}
