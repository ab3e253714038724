package dev.workflowworker.core.wire;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.core.internal.WireCodec;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The fields of a dead-letter entry: the entry a transport writes, to its dead-letter stream, in
 * place of one it gave up on. All values are strings.
 * <table class="striped">
 * <caption>Dead-letter fields</caption>
 * <thead><tr><th>field</th><th>value</th></tr></thead>
 * <tbody>
 * <tr><td>{@value #ORIGINAL_MESSAGE}</td><td>every field of the original entry, as one JSON object of
 *     strings (see {@link #originalMessage(Map)}); replaying a dead letter re-publishes these</td></tr>
 * <tr><td>{@value #ERROR_MESSAGE}</td><td>{@link DeadLetter#errorMessage()}: why; for an entry that
 *     could not be decoded, its {@link dev.workflowworker.api.spi.Delivery#decodeError() decode error}</td></tr>
 * <tr><td>{@value #ERROR_STACK}</td><td>{@link DeadLetter#errorStack()}, or {@code ''}</td></tr>
 * <tr><td>{@value #SOURCE_STREAM}</td><td>the stream the entry was read from</td></tr>
 * <tr><td>{@value #ORIGINAL_ID}</td><td>the id the entry had there</td></tr>
 * <tr><td>{@value #MOVED_AT}</td><td>{@link DeadLetter#movedAt()}, ISO-8601 in UTC with exactly three
 *     fraction digits, as JavaScript's {@code toISOString()} writes it</td></tr>
 * <tr><td>{@value #ERROR_CATEGORY}</td><td>the {@link dev.workflowworker.api.ErrorCategory} of the
 *     last failure in lower case ({@link dev.workflowworker.api.ErrorCategory#wireValue()}), such as
 *     {@code permanent}</td></tr>
 * <tr><td>{@value #ATTEMPTS}</td><td>{@link DeadLetter#attempts()} as a decimal integer; {@code 0} when
 *     the entry never reached a handler</td></tr>
 * <tr><td>{@value #WORKER_ID}</td><td>{@link DeadLetter#workerId()}, or {@code ''}</td></tr>
 * </tbody>
 * </table>
 *
 * @see WireFormat
 */
public final class DeadLetterFormat {

    /** The original entry's fields as a JSON object. */
    public static final String ORIGINAL_MESSAGE = "original_message";
    /** Why the entry was dead-lettered. */
    public static final String ERROR_MESSAGE = "error_message";
    /** The stack trace of the last failure, or empty. */
    public static final String ERROR_STACK = "error_stack";
    /** The stream the entry came from. */
    public static final String SOURCE_STREAM = "source_stream";
    /** The id the entry had in {@value #SOURCE_STREAM}. */
    public static final String ORIGINAL_ID = "original_id";
    /** When the entry was dead-lettered, ISO-8601. */
    public static final String MOVED_AT = "moved_at";
    /** The error category of the last failure. */
    public static final String ERROR_CATEGORY = "error_category";
    /** How many processing attempts were made. */
    public static final String ATTEMPTS = "attempts";
    /** The worker that gave up on the entry. */
    public static final String WORKER_ID = "worker_id";

    /** Every field of a dead-letter entry, in the order {@link #encode encode} writes them. */
    public static final List<String> FIELDS = List.of(ORIGINAL_MESSAGE, ERROR_MESSAGE, ERROR_STACK, SOURCE_STREAM,
            ORIGINAL_ID, MOVED_AT, ERROR_CATEGORY, ATTEMPTS, WORKER_ID);

    private static final DateTimeFormatter MILLIS_UTC = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private DeadLetterFormat() {
    }

    /**
     * The fields of the dead-letter entry for one original entry.
     *
     * @param originalId     the id the entry had in its stream
     * @param originalFields every field of the entry, as read (unknown and invalid ones included)
     * @param letter         why and when it is dead-lettered
     * @param sourceStream   the stream it was read from
     * @return the fields of {@link #FIELDS}, in that order; a new mutable map
     * @throws NullPointerException if an argument is null
     */
    public static Map<String, String> encode(String originalId, Map<String, String> originalFields,
                                             DeadLetter letter, String sourceStream) {
        Objects.requireNonNull(originalId, "originalId");
        Objects.requireNonNull(letter, "letter");
        Objects.requireNonNull(sourceStream, "sourceStream");
        Map<String, String> f = new LinkedHashMap<>(16);
        f.put(ORIGINAL_MESSAGE, originalMessage(originalFields));
        f.put(ERROR_MESSAGE, letter.errorMessage());
        f.put(ERROR_STACK, letter.errorStack());
        f.put(SOURCE_STREAM, sourceStream);
        f.put(ORIGINAL_ID, originalId);
        f.put(MOVED_AT, MILLIS_UTC.format(letter.movedAt()));
        f.put(ERROR_CATEGORY, letter.category().wireValue());
        f.put(ATTEMPTS, Integer.toString(letter.attempts()));
        f.put(WORKER_ID, letter.workerId());
        return f;
    }

    /**
     * The value of {@value #ORIGINAL_MESSAGE}: the fields as one JSON object, in their iteration
     * order, every value a JSON string.
     *
     * @param fields the original entry's fields
     * @return the JSON text, {@code {}} for no fields
     * @throws NullPointerException if {@code fields} is null
     */
    public static String originalMessage(Map<String, String> fields) {
        return WireCodec.originalMessage(Objects.requireNonNull(fields, "fields"));
    }
}
