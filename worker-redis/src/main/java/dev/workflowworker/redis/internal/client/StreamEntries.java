package dev.workflowworker.redis.internal.client;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.wire.WireFormat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns raw RESP2 stream replies into deliveries. Entries are read as bytes and decoded here
 * strictly, because the client's own UTF-8 decoding silently replaces invalid bytes: an entry
 * holding binary garbage must become a malformed delivery with a reason, not a mangled event.
 */
public final class StreamEntries {

    private StreamEntries() {
    }

    /**
     * @param reply an array of {@code [id, [field, value, ...]]} entries; entries whose fields are nil
     *              (deleted while pending) are skipped
     */
    public static List<Delivery> toDeliveries(Object reply, WireFormat codec) {
        if (!(reply instanceof List<?> entries)) {
            return List.of();
        }
        List<Delivery> out = new ArrayList<>(entries.size());
        for (Object e : entries) {
            if (e instanceof List<?> entry && entry.size() >= 2 && entry.get(1) instanceof List<?> raw) {
                out.add(toDelivery(text(entry.get(0)), raw, codec));
            }
        }
        return out;
    }

    /**
     * An entry as a delivery: the compact form ({@link CompactEntry}) when it is one field of
     * that family, else named fields (docs/ARCHITECTURE.md, "The wire contract").
     */
    public static Delivery toDelivery(String id, List<?> raw, WireFormat codec) {
        if (CompactEntry.isCompact(raw)) {
            return CompactEntry.decode(id, raw, codec);
        }
        return named(id, raw, codec);
    }

    /** An entry of named fields as a delivery: what every version reads, and all that versions before the compact form read. */
    static Delivery named(String id, List<?> raw, WireFormat codec) {
        Map<String, String> fields = new LinkedHashMap<>(raw.size());
        String problem = null;
        for (int i = 0; i + 1 < raw.size(); i += 2) {
            byte[] name = bytes(raw.get(i));
            byte[] value = bytes(raw.get(i + 1));
            String fieldName = wireName(name, i / 2);
            if (fieldName == null) {
                fieldName = strict(name);
            }
            if (fieldName == null) {
                fieldName = lenient(name);
                if (problem == null) {
                    problem = "field name '" + clip(fieldName) + "' is not valid UTF-8";
                }
            }
            String fieldValue = strict(value);
            if (fieldValue == null) {
                fieldValue = lenient(value);
                if (problem == null) {
                    problem = "field '" + clip(fieldName) + "' is not valid UTF-8 (" + value.length + " bytes)";
                }
            }
            fields.put(fieldName, fieldValue);
        }
        if (raw.size() % 2 != 0 && problem == null) {
            problem = "entry has an odd number of field names and values";
        }
        if (problem != null) {
            return Delivery.malformed(id, fields, attemptOf(fields), problem);
        }
        return codec.decode(id, fields);
    }

    private static int attemptOf(Map<String, String> fields) {
        try {
            int a = Integer.parseInt(fields.getOrDefault(WireFormat.ATTEMPT, "1"));
            return Math.max(1, a);
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    public static String text(Object o) {
        if (o == null) {
            return null;
        }
        return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : o.toString();
    }

    public static long number(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        return Long.parseLong(text(o));
    }

    private static byte[] bytes(Object o) {
        if (o == null) {
            return new byte[0];
        }
        return o instanceof byte[] b ? b : o.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The wire's field names as the constants of {@link WireFormat}, by length then bytes. */
    private static final byte[][] NAMES;
    private static final String[] NAME_STRINGS;

    static {
        List<String> names = new ArrayList<>(WireFormat.EVENT_FIELDS);
        names.add(WireFormat.ATTEMPT);
        NAMES = new byte[names.size()][];
        NAME_STRINGS = names.toArray(new String[0]);
        for (int i = 0; i < NAME_STRINGS.length; i++) {
            NAMES[i] = NAME_STRINGS[i].getBytes(StandardCharsets.US_ASCII);
        }
    }

    /**
     * A known field name as its shared constant, or null: a fresh String per field and entry, and
     * its hash computed again at every lookup of the fields' map, showed in profiles.
     */
    private static String wireName(byte[] b, int expectedAt) {
        // Entries that encode wrote have the names in this order: the first guess nearly always hits.
        if (expectedAt < NAMES.length && java.util.Arrays.equals(NAMES[expectedAt], b)) {
            return NAME_STRINGS[expectedAt];
        }
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].length == b.length && java.util.Arrays.equals(NAMES[i], b)) {
                return NAME_STRINGS[i];
            }
        }
        return null;
    }

    private static String strict(byte[] b) {
        return strict(b, 0, b.length);
    }

    /** {@return bytes {@code off} to {@code off + len} as a string, or null when they are not valid UTF-8} */
    static String strict(byte[] b, int off, int len) {
        // Nearly every field is ASCII, which the JDK's UTF-8 constructor copies after one
        // intrinsic scan for negative bytes. Any byte it could not decode became U+FFFD; only then
        // (or for a real U+FFFD) does the checking decoder tell the two apart.
        String s = new String(b, off, len, StandardCharsets.UTF_8);
        if (s.indexOf('\uFFFD') < 0) {
            return s;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(ByteBuffer.wrap(b, off, len)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String lenient(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String clip(String s) {
        String oneLine = s.replace('\n', ' ').replace('\r', ' ');
        return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 60) + "...";
    }

    /** @return a flat [name, value, name, value, ...] reply (XINFO) as a map */
    public static java.util.Map<String, Object> pairs(List<?> flat) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            m.put(text(flat.get(i)), flat.get(i + 1));
        }
        return m;
    }
}
