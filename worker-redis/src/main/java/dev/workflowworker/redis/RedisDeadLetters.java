package dev.workflowworker.redis;

import dev.workflowworker.core.wire.DeadLetterFormat;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Administration of the dead-letter stream, for the manual intervention permanent failures call
 * for: inspect dead letters, send one back to the stream for another try, or delete it. Obtain
 * it with {@link RedisEventTransport#deadLetters()}. Thread-safe.
 */
public final class RedisDeadLetters {

    private final RedisEventTransport transport;
    private final RedisOptions options;
    private final LuaScript replay = LuaScript.load("replay_dead_letter");

    RedisDeadLetters(RedisEventTransport transport) {
        this.transport = transport;
        this.options = transport.options();
    }

    /**
     * One dead letter: the original entry and why it was given up on.
     *
     * @param id     the entry id in the dead-letter stream
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

    /** {@return how many dead letters the stream holds} */
    public long size() {
        return transport.call("count dead letters", () -> {
            Object n = transport.redis().executeCommand(
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
     */
    public List<Entry> list(String after, int max) {
        return range(after == null ? "-" : "(" + after, "+", max);
    }

    /**
     * Looks up one dead letter by id, e.g. to inspect it before sending it back to the stream.
     *
     * @param id a dead letter's id
     * @return that dead letter, or empty
     */
    public Optional<Entry> get(String id) {
        Objects.requireNonNull(id, "id");
        List<Entry> found = range(id, id, 1);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    List<Entry> range(String from, String to, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        Object reply = transport.call("list dead letters", () -> transport.redis().executeCommand(
                new CommandArguments(Protocol.Command.XRANGE).key(options.deadLetterStream()).add(from).add(to)
                        .add("COUNT").add(max)));
        return entries(reply);
    }

    private static List<Entry> entries(Object reply) {
        List<Entry> out = new ArrayList<>();
        if (reply instanceof List<?> entries) {
            for (Object e : entries) {
                List<?> entry = (List<?>) e;
                List<?> raw = (List<?>) entry.get(1);
                Map<String, String> fields = new LinkedHashMap<>();
                for (int i = 0; i + 1 < raw.size(); i += 2) {
                    fields.put(StreamEntries.text(raw.get(i)), StreamEntries.text(raw.get(i + 1)));
                }
                out.add(new Entry(StreamEntries.text(entry.get(0)), fields));
            }
        }
        return out;
    }

    List<Entry> revRange(String from, String to, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        Object reply = transport.call("list dead letters", () -> transport.redis().executeCommand(
                new CommandArguments(Protocol.Command.XREVRANGE).key(options.deadLetterStream()).add(from).add(to)
                        .add("COUNT").add(max)));
        return entries(reply);
    }

    /**
     * Sends a dead letter back to the stream as a fresh entry (attempt 1) and removes it from the
     * dead-letter stream, atomically.
     *
     * @param id the dead letter's id
     * @return the new entry's id in the stream, or empty if there is no such dead letter
     */
    public Optional<String> replay(String id) {
        Objects.requireNonNull(id, "id");
        Object newId = transport.call("replay dead letter " + id, () -> replay.eval(transport.redis(),
                List.of(options.deadLetterStream(), options.stream()), List.of(id)));
        return Optional.ofNullable(StreamEntries.text(newId));
    }

    /**
     * Deletes a dead letter for good.
     *
     * @param id the dead letter's id
     * @return whether it existed
     */
    public boolean delete(String id) {
        Objects.requireNonNull(id, "id");
        return transport.call("delete dead letter " + id, () -> StreamEntries.number(transport.redis().executeCommand(
                new CommandArguments(Protocol.Command.XDEL).key(options.deadLetterStream()).add(id)))) == 1;
    }
}
