package dev.workflowworker.redis;

import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.redis.internal.client.LuaScript;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.Topology;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Administration of the dead-letter stream, for the manual intervention permanent failures call
 * for: inspect dead letters, send one back to the stream for another try, or delete it. Obtain
 * it with {@link RedisEventTransport#deadLetters()}. Thread-safe.
 *
 * <p>A partitioned stream has one dead-letter stream per partition. Its dead letters are named
 * {@code partition/id} (e.g. {@code 2/1764280000000-0}, the id in partition 2's dead-letter
 * stream) and are listed across all partitions oldest first: by id, which is the time they were
 * written, and by partition for equal ids. A page after {@code 2/1764280000000-0} continues at
 * the next dead letter in that order, so paging is stable while new dead letters arrive (they
 * come later). Where an id bounds a range or a page, a plain id ({@code 1764280000000-0}) stands
 * for that time in every partition. A replayed dead letter goes back to its own partition.
 */
public final class RedisDeadLetters {

    private static final LuaScript REPLAY = LuaScript.load("replay_dead_letter");
    private static final LuaScript PURGE = LuaScript.load("purge_dead_letters");

    private final RedisEventTransport transport;
    /** Which dead-letter streams there are and how ids name them: one shared or one per partition. */
    private final StreamLayout layout;

    RedisDeadLetters(RedisEventTransport transport) {
        this(transport, StreamLayout.of(transport, transport.options().partitions(), true));
    }

    RedisDeadLetters(RedisEventTransport transport, StreamLayout layout) {
        this.transport = transport;
        this.layout = layout;
    }

    /**
     * One dead letter: the original entry and why it was given up on.
     *
     * @param id     the entry id in the dead-letter stream; for a partitioned stream
     *               {@code partition/id}, the id in that partition's dead-letter stream
     * @param fields every field of the dead letter, named in {@link DeadLetterFormat}
     */
    public record Entry(String id, Map<String, String> fields) {

        /**
         * Copies the fields.
         *
         * @param id     the entry id in the dead-letter stream
         * @param fields every field of the dead letter
         * @throws NullPointerException if a component is null
         */
        public Entry {
            Objects.requireNonNull(id, "id");
            fields = Map.copyOf(fields);
        }

        /** {@return the reason ({@code error_message}), or empty} */
        public String errorMessage() {
            return fields.getOrDefault(DeadLetterFormat.ERROR_MESSAGE, "");
        }

        /** {@return the category of the last failure ({@code error_category}), or empty} */
        public String errorCategory() {
            return fields.getOrDefault(DeadLetterFormat.ERROR_CATEGORY, "");
        }

        /**
         * {@return the id the entry had in the source stream ({@code original_id}), or empty}
         */
        public String originalId() {
            return fields.getOrDefault(DeadLetterFormat.ORIGINAL_ID, "");
        }

        /**
         * {@return the original fields as a JSON object ({@code original_message}), or empty}
         */
        public String originalMessage() {
            return fields.getOrDefault(DeadLetterFormat.ORIGINAL_MESSAGE, "");
        }
    }

    /** {@return how many dead letters the stream holds (all partitions' together)} */
    public long size() {
        return transport.client().call("count dead letters", () -> {
            List<Response<Long>> lengths = new ArrayList<>(layout.deadLetterStreams());
            try (AbstractPipeline p = Topology.pipeline(transport.client().redis())) {
                for (int q = 0; q < layout.deadLetterStreams(); q++) {
                    lengths.add(p.xlen(layout.deadLetterStream(q)));
                }
                p.sync();
            }
            long n = 0;
            for (Response<Long> r : lengths) {
                n += r.get();
            }
            return n;
        });
    }

    /**
     * Lists dead letters, oldest first.
     *
     * @param max the most to return, at least 1
     * @return the dead letters
     */
    public List<Entry> list(int max) {
        return list(null, max);
    }

    /**
     * Lists one page of dead letters, oldest first.
     *
     * @param after the id of the last entry of the previous page, or null for the first page
     * @param max   the most to return, at least 1
     * @return the dead letters after {@code after}
     * @throws IllegalArgumentException if {@code after} is not a dead letter id (of this stream's form)
     */
    public List<Entry> list(String after, int max) {
        return range(after == null ? "-" : "(" + after, "+", max);
    }

    /**
     * Looks up one dead letter by id, e.g. to inspect it before sending it back to the stream.
     *
     * @param id a dead letter's id ({@code partition/id} for a partitioned stream)
     * @return that dead letter, or empty
     * @throws IllegalArgumentException if {@code id} is not a dead letter id of this stream's form
     */
    public Optional<Entry> get(String id) {
        StreamLayout.Place at = entry(id);
        Object reply = transport.client().call("list dead letters", () -> transport.client().redis().executeCommand(
                new CommandArguments(Protocol.Command.XRANGE).key(layout.deadLetterStream(at.q())).add(at.streamId())
                        .add(at.streamId()).add("COUNT").add(1)));
        List<Entry> found = entries(reply, at.q());
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    /**
     * Checks that {@code id} names one dead letter in this stream's form, as {@link #get},
     * {@link #replay} and {@link #delete} do before they ask Redis: {@code ms-seq} (e.g.
     * {@code 1764280000000-0}) for one shared stream, {@code partition/ms-seq} with one of the
     * stream's partitions for a partitioned one. For callers that take ids from outside, such as
     * a web page, and want to refuse a malformed one as such and check a whole batch before
     * acting on any of it.
     *
     * @param id the id to check
     * @return {@code id}
     * @throws IllegalArgumentException saying what is wrong with {@code id} and the form to use
     * @throws NullPointerException     if {@code id} is null
     */
    public String requireId(String id) {
        entry(id);
        return id;
    }

    /**
     * The place of one dead letter. A range bound may be an incomplete id ({@code ms}), but one
     * entry needs its sequence too: the replay script would XRANGE the first entry of that
     * millisecond and XDEL {@code ms-0}, which may be another one.
     */
    private StreamLayout.Place entry(String id) {
        Objects.requireNonNull(id, "id");
        StreamLayout.Place at = layout.place(id);
        if (at.streamId().indexOf('-') < 0) {
            throw new IllegalArgumentException("'" + id + "' is not a dead letter id: it lacks the sequence number, e.g. "
                    + id + "-0");
        }
        return at;
    }

    /**
     * Dead letters between two bounds, oldest first. A bound is {@code -} (the oldest), {@code +}
     * (the newest) or an id, inclusive, or exclusive after {@code (}. For a partitioned stream an
     * id is {@code partition/id}, or a plain id for that time in every partition; one pipelined
     * round trip reads up to {@code max} entries from each partition, and the oldest {@code max}
     * of them are the answer.
     */
    List<Entry> range(String from, String to, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        int n = layout.deadLetterStreams();
        String[] starts = new String[n];
        String[] ends = new String[n];
        for (int q = 0; q < n; q++) {
            starts[q] = layout.bound(from, q, true);
            ends[q] = layout.bound(to, q, false);
        }
        return merged(Protocol.Command.XRANGE, starts, ends, max, MERGE_ORDER);
    }

    /**
     * Dead letters newest first, from {@code from} ({@code +}, or exclusive after {@code (}) down to
     * {@code to} ({@code -}). For a partitioned stream one pipelined round trip reads up to
     * {@code max} entries from each partition and the newest {@code max} of them, in reverse merge
     * order, are the answer; {@code (partition/id} continues after that entry.
     */
    List<Entry> revRange(String from, String to, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        int n = layout.deadLetterStreams();
        String[] starts = new String[n];
        String[] ends = new String[n];
        for (int q = 0; q < n; q++) {
            starts[q] = layout.revStart(from, q);
            ends[q] = to;
        }
        return merged(Protocol.Command.XREVRANGE, starts, ends, max, MERGE_ORDER.reversed());
    }

    /**
     * One range command per dead-letter stream in one pipelined round trip, merged in
     * {@code order}; the first {@code max} are the answer.
     */
    private List<Entry> merged(Protocol.Command command, String[] starts, String[] ends, int max,
                               Comparator<Entry> order) {
        int n = layout.deadLetterStreams();
        List<Object> replies = transport.client().call("list dead letters", () -> {
            List<Response<Object>> rs = new ArrayList<>(n);
            try (AbstractPipeline p = Topology.pipeline(transport.client().redis())) {
                for (int q = 0; q < n; q++) {
                    rs.add(p.sendCommand(new CommandArguments(command)
                            .key(layout.deadLetterStream(q)).add(starts[q]).add(ends[q]).add("COUNT").add(max)));
                }
                p.sync();
            }
            List<Object> out = new ArrayList<>(n);
            for (Response<Object> r : rs) {
                out.add(r.get());
            }
            return out;
        });
        List<Entry> all = new ArrayList<>();
        for (int q = 0; q < n; q++) {
            all.addAll(entries(replies.get(q), q));
        }
        all.sort(order);
        return all.size() <= max ? all : new ArrayList<>(all.subList(0, max));
    }

    /** Oldest first across partitions: by stream id (the time it was written), then by partition. */
    private static final Comparator<Entry> MERGE_ORDER = Comparator
            .comparingLong((Entry e) -> millis(streamIdOf(e.id())))
            .thenComparingLong(e -> sequence(streamIdOf(e.id())))
            .thenComparingInt(e -> partitionOf(e.id()));

    private static String streamIdOf(String deadLetterId) {
        return deadLetterId.substring(deadLetterId.indexOf('/') + 1);
    }

    private static int partitionOf(String deadLetterId) {
        int slash = deadLetterId.indexOf('/');
        return slash < 0 ? -1 : Integer.parseInt(deadLetterId.substring(0, slash));
    }

    private static long millis(String streamId) {
        int dash = streamId.indexOf('-');
        return Long.parseLong(dash < 0 ? streamId : streamId.substring(0, dash));
    }

    private static long sequence(String streamId) {
        int dash = streamId.indexOf('-');
        return dash < 0 ? 0 : Long.parseLong(streamId.substring(dash + 1));
    }

    /** Entries of an XRANGE reply from dead-letter stream {@code q}, named as the layout names them. */
    private List<Entry> entries(Object reply, int q) {
        List<Entry> out = new ArrayList<>();
        if (reply instanceof List<?> entries) {
            for (Object e : entries) {
                List<?> entry = (List<?>) e;
                List<?> raw = (List<?>) entry.get(1);
                Map<String, String> fields = new LinkedHashMap<>();
                for (int i = 0; i + 1 < raw.size(); i += 2) {
                    fields.put(StreamEntries.text(raw.get(i)), StreamEntries.text(raw.get(i + 1)));
                }
                out.add(new Entry(layout.name(q, StreamEntries.text(entry.get(0))), fields));
            }
        }
        return out;
    }

    /**
     * Sends a dead letter back to the stream as a fresh entry (attempt 1) and removes it from the
     * dead-letter stream, atomically. The dead letter of a partition goes back to that partition,
     * behind the events of its key published since.
     *
     * @param id the dead letter's id
     * @return the new entry's id in the stream ({@code partition/id} for a partitioned stream), or
     *     empty if there is no such dead letter
     * @throws IllegalArgumentException if {@code id} is not a dead letter id of this stream's form
     */
    public Optional<String> replay(String id) {
        StreamLayout.Place at = entry(id);
        // A partition's dead-letter stream and stream share one hash tag: one slot, no lease
        // needed, as an append is what any producer does.
        Object newId = transport.client().call("replay dead letter " + id, () -> REPLAY.eval(transport.client().redis(),
                List.of(layout.deadLetterStream(at.q()), layout.stream(at.q())),
                // A partition takes the compact form of an entry where it fits (docs/ARCHITECTURE.md, "The wire contract").
                List.of(at.streamId(), layout.compactEntries() ? "1" : "")));
        if (newId != null) {
            // On a cluster the partition's owner waits on its news channel; without a wake the entry
            // waited for its reader's next poll (docs/ARCHITECTURE.md, "Redis Cluster"). Nothing on one server.
            transport.client().announce(layout.stream(at.q()));
        }
        return Optional.ofNullable(StreamEntries.text(newId)).map(n -> layout.name(at.q(), n));
    }

    /**
     * Deletes a dead letter for good.
     *
     * @param id the dead letter's id
     * @return whether it existed
     * @throws IllegalArgumentException if {@code id} is not a dead letter id of this stream's form
     */
    public boolean delete(String id) {
        StreamLayout.Place at = entry(id);
        return transport.client().call("delete dead letter " + id, () -> StreamEntries.number(transport.client().redis()
                .executeCommand(new CommandArguments(Protocol.Command.XDEL).key(layout.deadLetterStream(at.q()))
                        .add(at.streamId())))) == 1;
    }

    /**
     * Deletes every dead letter: each dead-letter stream (each partition's) in one pipelined
     * round trip, its count taken atomically with its delete.
     *
     * @return how many there were
     */
    long purge() {
        List<Object> counts = transport.client().call("purge dead letters", () -> PURGE.evalAll(transport.client().redis(),
                layout.deadLetterStreams(), q -> List.of(layout.deadLetterStream(q)), q -> List.of()));
        long n = 0;
        for (Object c : counts) {
            n += StreamEntries.number(c);
        }
        return n;
    }

    /**
     * {@return the id of the newest dead letter, or empty when there is none}, so that a replay of
     * "everything" can stop at what existed when it began instead of chasing dead letters that a
     * still-failing handler writes behind it.
     */
    Optional<String> newestId() {
        List<Entry> newest = revRange("+", "-", 1);
        return newest.isEmpty() ? Optional.empty() : Optional.of(newest.get(0).id());
    }
}
