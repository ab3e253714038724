package dev.workflowworker.redis.internal.time;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.internal.client.CompactEntry;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.Topology;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.ToIntFunction;

/**
 * Delayed events of a stream, from any process: each waits in a slot (the partition its lock key
 * routes to, or the one shared stream), under the slot's hash tag, until a mover of the slot
 * appends it to the slot's stream ({@link TimeLoop}). See docs/ARCHITECTURE.md, "Time".
 */
public final class DelayedStore implements DelayedEvents {

    /**
     * Fixed width, so the scripts can write the due time Redis settles on in place of the
     * publisher's estimate without changing any length in the stored entry.
     */
    public static final DateTimeFormatter DUE_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** Due times a fixed-width header can hold: years 0000 to 9999. */
    private static final long LATEST = 253_402_300_799_999L;
    private static final Instant LATEST_INSTANT = Instant.ofEpochMilli(LATEST);
    /**
     * Between the delayed set's name and a call id: the key where a cancel or reschedule keeps its
     * first answer for a minute, for the same call sent again after a lost reply.
     */
    private static final String CALL_MARKER = ":cx:";
    /** The wire fields of the compact stored form, in the order it holds them after the due time (see delayed_move.lua). */
    private static final List<String> COMPACT_ORDER;

    static {
        List<String> order = new ArrayList<>(WireFormat.EVENT_FIELDS.size());
        order.add(WireFormat.HEADERS_JSON);
        for (String f : WireFormat.EVENT_FIELDS) {
            if (!f.equals(WireFormat.HEADERS_JSON)) {
                order.add(f);
            }
        }
        COMPACT_ORDER = List.copyOf(order);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final StreamClient client;
    private final TimeKeys keys;
    private final ToIntFunction<WorkflowEvent> slotOf;

    /**
     * @param slotOf the slot an event waits in: where it joins its execution's order when due
     */
    public DelayedStore(StreamClient client, TimeKeys keys, ToIntFunction<WorkflowEvent> slotOf) {
        this.client = client;
        this.keys = keys;
        this.slotOf = slotOf;
    }

    /** A due time before 1970 is past, so due at once; one after year 9999 is refused. */
    @Override
    public String publishAt(WorkflowEvent event, Instant dueAt) {
        long ms = millis(dueAt, "dueAt");
        return add(event, "at", ms, ms);
    }

    /** The delay counts from Redis TIME when the script runs; the header holds the publisher's estimate until then. */
    @Override
    public String publishAfter(WorkflowEvent event, Duration delay) {
        Objects.requireNonNull(delay, "delay");
        long now = client.clock().wallMillis();
        if (delay.compareTo(Duration.ofMillis(LATEST - now)) > 0) {
            throw new IllegalArgumentException("delay " + delay + " puts the due time after year 9999 ("
                    + LATEST_INSTANT + " is the latest)");
        }
        long ms = delay.isNegative() ? 0 : delay.toMillis();
        return add(event, "after", ms, now + ms);
    }

    private static long millis(Instant dueAt, String argument) {
        Objects.requireNonNull(dueAt, argument);
        if (dueAt.isAfter(LATEST_INSTANT)) {
            throw new IllegalArgumentException(argument + " " + dueAt + " is after year 9999 ("
                    + LATEST_INSTANT + " is the latest due time)");
        }
        return dueAt.isBefore(Instant.EPOCH) ? 0 : dueAt.toEpochMilli();
    }

    private String add(WorkflowEvent event, String mode, long value, long estimate) {
        Objects.requireNonNull(event, "event");
        client.checkOpen();
        byte[] stored = store(event, DUE_FORMAT.format(Instant.ofEpochMilli(estimate)), client.codec());
        int p = slotOf.applyAsInt(event);
        client.call("publish delayed event " + event.eventId(), () -> client.scripts().delayedAdd.eval(client.redis(),
                List.of(keys.delayed(p), keys.delayedEntries(p)),
                List.of(event.eventId(), mode, Long.toString(value), stored, keys.wake(),
                        Integer.toString(p)), client.waitReplicas(), client.waitMs()));
        return event.eventId();
    }

    /**
     * Asks every slot, in one pipelined round trip per node: the caller has the event id only,
     * not the lock key that placed it. An id waits in at most one slot.
     */
    @Override
    public boolean cancel(String eventId) {
        Objects.requireNonNull(eventId, "eventId");
        // One id for the call, sent again with it: a send whose reply was lost answers for both.
        String call = callId();
        return any(client.call("cancel delayed event " + eventId, () -> client.scripts().delayedCancel.evalAll(
                client.redis(), keys.count(), i -> scriptKeys(i, call),
                i -> List.of(eventId), client.waitReplicas(), client.waitMs())));
    }

    @Override
    public boolean reschedule(String eventId, Instant dueAt) {
        Objects.requireNonNull(eventId, "eventId");
        long ms = millis(dueAt, "dueAt");
        String wake = keys.wake();
        String call = callId();
        return any(client.call("reschedule delayed event " + eventId, () -> client.scripts().delayedReschedule.evalAll(
                client.redis(), keys.count(), i -> scriptKeys(i, call),
                i -> List.of(eventId, Long.toString(ms), wake, Integer.toString(i)),
                client.waitReplicas(), client.waitMs())));
    }

    /** The delayed set, the entries and the call's marker of slot {@code i}. */
    private List<String> scriptKeys(int i, String call) {
        String set = keys.delayed(i);
        return List.of(set, keys.delayedEntries(i), set + CALL_MARKER + call);
    }

    private static String callId() {
        return UUID.randomUUID().toString();
    }

    @Override
    public long waiting() {
        long n = 0;
        for (long w : waitingPerSlot()) {
            n += w;
        }
        return n;
    }

    /** {@return the events waiting in each slot} One pipelined round trip per node. */
    long[] waitingPerSlot() {
        int n = keys.count();
        return client.call("count delayed events", () -> {
            List<Response<Long>> counts = new ArrayList<>(n);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (int i = 0; i < n; i++) {
                    counts.add(p.zcard(keys.delayed(i)));
                }
                p.sync();
            }
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = counts.get(i).get();
            }
            return out;
        });
    }

    private static boolean any(List<Object> replies) {
        for (Object r : replies) {
            if (StreamEntries.number(r) == 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * The entry as stored while it waits, with its due-at header set to {@code due} (fixed width).
     * The compact form when the wire fields are the standard ones in the codec's order (a first
     * delivery's): consecutive MessagePack strings, first the due time, then headers_json without
     * its due-at key ('' when that was the only one), then the other fields' values in wire order;
     * delayed_move.lua puts the due-at key back first in the headers and supplies the names. About
     * half the bytes of the fields with their names, and one C call to unpack. Else {@link #pack}
     * of the fields with the due-at header in them. See docs/ARCHITECTURE.md, "Time".
     */
    static byte[] store(WorkflowEvent event, String due, WireFormat codec) {
        Map<String, String> headers = new HashMap<>(event.headers());
        headers.remove(DUE_AT_HEADER); // the event may come out of an earlier wait
        Map<String, String> fields = codec.encode(event.toBuilder().headers(headers).build(), 1);
        if (!List.copyOf(fields.keySet()).equals(WireFormat.EVENT_FIELDS)) {
            headers.put(DUE_AT_HEADER, due);
            return pack(codec.encode(event.toBuilder().headers(headers).build(), 1)).getBytes(StandardCharsets.UTF_8);
        }
        // The headers as they will be in the stream, due-at put back: the codec's limit holds for them.
        String rest = fields.get(WireFormat.HEADERS_JSON);
        int headersBytes = rest.isEmpty() ? 13 + due.length()
                : rest.getBytes(StandardCharsets.UTF_8).length + 12 + due.length();
        if (headersBytes > codec.maxPayloadBytes()) {
            throw new IllegalArgumentException("event " + event.eventId() + ": headers_json is " + headersBytes
                    + " bytes, over the limit of " + codec.maxPayloadBytes() + " bytes");
        }
        return compact(due, rest, fields);
    }

    /**
     * The stored entry of an event a producer wrote itself with a due time (a seed-format entry's
     * {@code due_at}; docs/ARCHITECTURE.md, "Time"), from its fields as written, {@code due_at}
     * aside: the compact form when they are the eleven wire fields, so that it reaches its
     * partition compact like any publish, whether it is appended at once or when it falls due;
     * else the packed form with the names, {@code headers_json} with the due-at header first. The
     * due-at header is {@code due} either way, of fixed width, which reschedule rewrites in place.
     *
     * @param fields  the entry's fields as written, {@code due_at} among them or not
     * @param headers its headers as decoded from {@code headers_json}
     * @param due     its due time in ms, 0 to {@code 253402300799999}
     */
    public static byte[] storeWritten(Map<String, String> fields, Map<String, String> headers, long due) {
        String dueText = DUE_FORMAT.format(Instant.ofEpochMilli(due));
        Map<String, String> rest = new LinkedHashMap<>(headers);
        rest.remove(DUE_AT_HEADER);
        Map<String, String> wire = new LinkedHashMap<>(fields);
        wire.remove(WireFormat.DUE_AT);
        if (CompactEntry.fits(wire)) {
            return compact(dueText, rest.isEmpty() ? "" : json(rest), wire);
        }
        Map<String, String> named = new LinkedHashMap<>();
        named.put(DUE_AT_HEADER, dueText);
        named.putAll(rest);
        Map<String, String> packed = new LinkedHashMap<>(fields);
        packed.put(WireFormat.HEADERS_JSON, json(named));
        return pack(packed).getBytes(StandardCharsets.UTF_8);
    }

    /** The compact stored form: the due time, {@code headers} (without due-at), then the other wire fields' values. */
    private static byte[] compact(String due, String headers, Map<String, String> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(192);
        writeString(out, due);
        for (String f : COMPACT_ORDER) {
            writeString(out, f.equals(WireFormat.HEADERS_JSON) ? headers : fields.get(f));
        }
        return out.toByteArray();
    }

    private static String json(Map<String, String> headers) {
        try {
            return JSON.writeValueAsString(headers);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings could not be written as JSON", e);
        }
    }

    /** A MessagePack string: its length in the shortest header that holds it, then its UTF-8 bytes. */
    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] v = s.getBytes(StandardCharsets.UTF_8);
        int n = v.length;
        if (n < 32) {
            out.write(0xa0 | n);
        } else if (n < 256) {
            out.write(0xd9);
            out.write(n);
        } else if (n < 65_536) {
            out.write(0xda);
            out.write(n >>> 8);
            out.write(n);
        } else {
            out.write(0xdb);
            out.write(n >>> 24);
            out.write(n >>> 16);
            out.write(n >>> 8);
            out.write(n);
        }
        out.write(v, 0, n);
    }

    /**
     * The packing the scripts unpack: each field and value as its UTF-8 byte length, a colon, and
     * its bytes, so a value may hold any character without escaping.
     */
    public static String pack(Map<String, String> fields) {
        StringBuilder b = new StringBuilder(256);
        for (Map.Entry<String, String> f : fields.entrySet()) {
            append(b, f.getKey());
            append(b, f.getValue());
        }
        return b.toString();
    }

    private static void append(StringBuilder b, String s) {
        b.append(s.getBytes(StandardCharsets.UTF_8).length).append(':').append(s);
    }
}
