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
import java.util.regex.Pattern;

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
    private static final Pattern STREAM_ID = Pattern.compile("\\d+(-\\d+)?");

    private final RedisEventTransport transport;
    private final RedisOptions options;
    /** The stream's partition count; 0 for one shared stream. */
    private final int partitions;

    RedisDeadLetters(RedisEventTransport transport) {
        this(transport, transport.options().partitions());
    }

    RedisDeadLetters(RedisEventTransport transport, int partitions) {
        this.transport = transport;
        this.options = transport.options();
        this.partitions = partitions;
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
        if (partitions > 0) {
            return transport.client().call("count dead letters", () -> {
                List<Response<Long>> lengths = new ArrayList<>(partitions);
                try (AbstractPipeline p = Topology.pipeline(transport.client().redis())) {
                    for (int i = 0; i < partitions; i++) {
                        lengths.add(p.xlen(options.partitionDeadLetters(i)));
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
        return transport.client().call("count dead letters", () -> {
            Object n = transport.client().redis().executeCommand(
                    new CommandArguments(Protocol.Command.XLEN).key(options.deadLetterStream()));
            return StreamEntries.number(n);
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
        Position at = entry(id);
        List<Entry> found = at.partition < 0 ? range(at.streamId, at.streamId, 1)
                : xrange(at.partition, at.streamId, at.streamId, 1);
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
    private Position entry(String id) {
        Objects.requireNonNull(id, "id");
        Position at = partitions > 0 ? position(id, true) : new Position(-1, requireStreamId(sharedId(id), id));
        if (at.streamId.indexOf('-') < 0) {
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
        if (partitions > 0) {
            return mergedRange(from, to, max);
        }
        sharedId(from.startsWith("(") ? from.substring(1) : from);
        sharedId(to.startsWith("(") ? to.substring(1) : to);
        Object reply = transport.client().call("list dead letters", () -> transport.client().redis().executeCommand(
                new CommandArguments(Protocol.Command.XRANGE).key(options.deadLetterStream()).add(from).add(to)
                        .add("COUNT").add(max)));
        return entries(reply, -1);
    }

    private List<Entry> xrange(int partition, String from, String to, int max) {
        Object reply = transport.client().call("list dead letters", () -> transport.client().redis().executeCommand(
                new CommandArguments(Protocol.Command.XRANGE).key(options.partitionDeadLetters(partition)).add(from)
                        .add(to).add("COUNT").add(max)));
        return entries(reply, partition);
    }

    private List<Entry> mergedRange(String from, String to, int max) {
        String[] starts = new String[partitions];
        String[] ends = new String[partitions];
        for (int q = 0; q < partitions; q++) {
            starts[q] = bound(from, q, true);
            ends[q] = bound(to, q, false);
        }
        return merged(Protocol.Command.XRANGE, starts, ends, max, MERGE_ORDER);
    }

    /**
     * One range command per partition's dead letters in one pipelined round trip, merged in
     * {@code order}; the first {@code max} are the answer.
     */
    private List<Entry> merged(Protocol.Command command, String[] starts, String[] ends, int max,
                               Comparator<Entry> order) {
        List<Object> replies = transport.client().call("list dead letters", () -> {
            List<Response<Object>> rs = new ArrayList<>(partitions);
            try (AbstractPipeline p = Topology.pipeline(transport.client().redis())) {
                for (int q = 0; q < partitions; q++) {
                    rs.add(p.sendCommand(new CommandArguments(command)
                            .key(options.partitionDeadLetters(q)).add(starts[q]).add(ends[q]).add("COUNT").add(max)));
                }
                p.sync();
            }
            List<Object> out = new ArrayList<>(partitions);
            for (Response<Object> r : rs) {
                out.add(r.get());
            }
            return out;
        });
        List<Entry> all = new ArrayList<>();
        for (int q = 0; q < partitions; q++) {
            all.addAll(entries(replies.get(q), q));
        }
        all.sort(order);
        return all.size() <= max ? all : new ArrayList<>(all.subList(0, max));
    }

    /** Oldest first across partitions: by stream id (the time it was written), then by partition. */
    private static final Comparator<Entry> MERGE_ORDER = Comparator
            .comparingLong((Entry e) -> millis(Position.streamIdOf(e.id())))
            .thenComparingLong(e -> sequence(Position.streamIdOf(e.id())))
            .thenComparingInt(e -> Position.partitionOf(e.id()));

    /**
     * The XRANGE bound in partition {@code q} of a bound in merge order. Entries are ordered by
     * (stream id, partition), so "from {@code p/id}" starts at {@code id} in partitions from p on
     * and just after it in those before p; a plain id is that time in every partition.
     */
    private String bound(String b, int q, boolean lower) {
        if (lower ? "-".equals(b) : "+".equals(b)) {
            return b;
        }
        boolean exclusive = b.startsWith("(");
        String id = exclusive ? b.substring(1) : b;
        Position at = position(id, false);
        boolean includesId;
        if (at.partition < 0) {
            includesId = !exclusive;
        } else if (lower) {
            includesId = exclusive ? q > at.partition : q >= at.partition;
        } else {
            includesId = exclusive ? q < at.partition : q <= at.partition;
        }
        return includesId ? at.streamId : "(" + at.streamId;
    }

    /**
     * A dead letter's place: partition (-1 when not given, or the stream is shared) and id in that
     * partition's dead-letter stream.
     */
    private record Position(int partition, String streamId) {

        static String streamIdOf(String deadLetterId) {
            return deadLetterId.substring(deadLetterId.indexOf('/') + 1);
        }

        static int partitionOf(String deadLetterId) {
            int slash = deadLetterId.indexOf('/');
            return slash < 0 ? -1 : Integer.parseInt(deadLetterId.substring(0, slash));
        }
    }

    private Position position(String id, boolean partitionRequired) {
        int slash = id.indexOf('/');
        if (slash < 0) {
            if (partitionRequired) {
                throw new IllegalArgumentException("'" + id + "' names no partition: dead letters of partitioned stream "
                        + options.stream() + " are named partition/id, e.g. 0/" + (STREAM_ID.matcher(id).matches()
                        ? id : "1764280000000-0"));
            }
            return new Position(-1, requireStreamId(id, id));
        }
        int partition;
        try {
            partition = Integer.parseInt(id.substring(0, slash));
        } catch (NumberFormatException e) {
            partition = -1;
        }
        if (partition < 0 || partition >= partitions) {
            throw new IllegalArgumentException("'" + id + "' names no partition of stream " + options.stream()
                    + ": it has partitions 0 to " + (partitions - 1));
        }
        return new Position(partition, requireStreamId(id.substring(slash + 1), id));
    }

    private static String requireStreamId(String streamId, String id) {
        if (!STREAM_ID.matcher(streamId).matches() || !unsigned64(streamId)) {
            throw new IllegalArgumentException("'" + id + "' is not a dead letter id");
        }
        return streamId;
    }

    /** Redis refuses an id part beyond 64 bits with an error that would read as Redis failing. */
    private static boolean unsigned64(String streamId) {
        try {
            for (String part : streamId.split("-")) {
                Long.parseUnsignedLong(part);
            }
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** A shared stream's dead letters are plain ids; say so instead of passing Redis a partitioned one. */
    private String sharedId(String id) {
        if (id.indexOf('/') >= 0) {
            throw new IllegalArgumentException("'" + id + "' names a partition, but stream " + options.stream()
                    + " is not partitioned: its dead letters are plain ids");
        }
        return id;
    }

    private static long millis(String streamId) {
        int dash = streamId.indexOf('-');
        return Long.parseLong(dash < 0 ? streamId : streamId.substring(0, dash));
    }

    private static long sequence(String streamId) {
        int dash = streamId.indexOf('-');
        return dash < 0 ? 0 : Long.parseLong(streamId.substring(dash + 1));
    }

    /** Entries of an XRANGE reply; in a partition's dead-letter stream their ids become {@code partition/id}. */
    private static List<Entry> entries(Object reply, int partition) {
        List<Entry> out = new ArrayList<>();
        if (reply instanceof List<?> entries) {
            for (Object e : entries) {
                List<?> entry = (List<?>) e;
                List<?> raw = (List<?>) entry.get(1);
                Map<String, String> fields = new LinkedHashMap<>();
                for (int i = 0; i + 1 < raw.size(); i += 2) {
                    fields.put(StreamEntries.text(raw.get(i)), StreamEntries.text(raw.get(i + 1)));
                }
                String id = StreamEntries.text(entry.get(0));
                out.add(new Entry(partition < 0 ? id : partition + "/" + id, fields));
            }
        }
        return out;
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
        if (partitions == 0) {
            Object reply = transport.client().call("list dead letters", () -> transport.client().redis().executeCommand(
                    new CommandArguments(Protocol.Command.XREVRANGE).key(options.deadLetterStream()).add(from).add(to)
                            .add("COUNT").add(max)));
            return entries(reply, -1);
        }
        String[] starts = new String[partitions];
        for (int q = 0; q < partitions; q++) {
            if (!from.startsWith("(")) {
                starts[q] = from;
                continue;
            }
            String cursor = from.substring(1);
            int slash = cursor.indexOf('/');
            if (slash < 0) {
                starts[q] = from;
                continue;
            }
            int p = Integer.parseInt(cursor.substring(0, slash));
            String id = cursor.substring(slash + 1);
            // Reverse of merge order (id, partition): before p/id are ids up to id in lower
            // partitions and ids below id in p and higher ones.
            starts[q] = q < p ? id : "(" + id;
        }
        String[] ends = new String[partitions];
        java.util.Arrays.fill(ends, to);
        return merged(Protocol.Command.XREVRANGE, starts, ends, max, MERGE_ORDER.reversed());
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
        Position at = entry(id);
        if (at.partition >= 0) {
            // The partition's dead-letter stream and stream share one hash tag: one slot, no lease
            // needed, as an append is what any producer does.
            Object newId = transport.client().call("replay dead letter " + id, () -> REPLAY.eval(transport.client().redis(),
                    List.of(options.partitionDeadLetters(at.partition), options.partitionStream(at.partition)),
                    List.of(at.streamId)));
            return Optional.ofNullable(StreamEntries.text(newId)).map(n -> at.partition + "/" + n);
        }
        Object newId = transport.client().call("replay dead letter " + id, () -> REPLAY.eval(transport.client().redis(),
                List.of(options.deadLetterStream(), options.stream()), List.of(at.streamId)));
        return Optional.ofNullable(StreamEntries.text(newId));
    }

    /**
     * Deletes a dead letter for good.
     *
     * @param id the dead letter's id
     * @return whether it existed
     * @throws IllegalArgumentException if {@code id} is not a dead letter id of this stream's form
     */
    public boolean delete(String id) {
        Position at = entry(id);
        String key = at.partition < 0 ? options.deadLetterStream() : options.partitionDeadLetters(at.partition);
        return transport.client().call("delete dead letter " + id, () -> StreamEntries.number(transport.client().redis().executeCommand(
                new CommandArguments(Protocol.Command.XDEL).key(key).add(at.streamId)))) == 1;
    }

    /**
     * Deletes every dead letter; for a partitioned stream, partition by partition in one pipelined
     * round trip, each count taken atomically with its delete.
     *
     * @return how many there were
     */
    long purge() {
        if (partitions > 0) {
            List<Object> counts = transport.client().call("purge dead letters", () -> PURGE.evalAll(transport.client().redis(),
                    partitions, q -> List.of(options.partitionDeadLetters(q)), q -> List.of()));
            long n = 0;
            for (Object c : counts) {
                n += StreamEntries.number(c);
            }
            return n;
        }
        long n = size();
        transport.client().call("purge dead letters", () -> transport.client().redis().del(options.deadLetterStream()));
        return n;
    }

    /**
     * {@return the id of the newest dead letter, or empty when there is none}, so that a replay of
     * "everything" can stop at what existed when it began instead of chasing dead letters that a
     * still-failing handler writes behind it.
     */
    Optional<String> newestId() {
        List<String> keys = new ArrayList<>();
        if (partitions > 0) {
            for (int q = 0; q < partitions; q++) {
                keys.add(options.partitionDeadLetters(q));
            }
        } else {
            keys.add(options.deadLetterStream());
        }
        List<Object> replies = transport.client().call("find the newest dead letter", () -> {
            List<Response<Object>> rs = new ArrayList<>(keys.size());
            try (AbstractPipeline p = Topology.pipeline(transport.client().redis())) {
                for (String k : keys) {
                    rs.add(p.sendCommand(new CommandArguments(Protocol.Command.XREVRANGE).key(k).add("+").add("-")
                            .add("COUNT").add(1)));
                }
                p.sync();
            }
            List<Object> out = new ArrayList<>(keys.size());
            for (Response<Object> r : rs) {
                out.add(r.get());
            }
            return out;
        });
        Entry newest = null;
        for (int q = 0; q < replies.size(); q++) {
            for (Entry e : entries(replies.get(q), partitions > 0 ? q : -1)) {
                if (newest == null || MERGE_ORDER.compare(e, newest) > 0) {
                    newest = e;
                }
            }
        }
        return newest == null ? Optional.empty() : Optional.of(newest.id());
    }

    /** {@return the stream's partition count as this instance sees it; 0 for one shared stream} */
    int partitions() {
        return partitions;
    }
}
