package dev.workflowworker.redis.internal.client;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.wire.WireFormat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compact form of a partition entry, format 1 (docs/ARCHITECTURE.md, "The wire contract"):
 * one field named {@value #FIELD} whose value is the values of {@link WireFormat#EVENT_FIELDS},
 * in that order, each written as its length in UTF-8 bytes (decimal, no leading zero), a colon
 * and its bytes. Only an entry whose fields are exactly those eleven is written this way; any
 * other (a foreign producer's extra fields, {@code due_at}, {@code attempt}) keeps its named
 * fields, which every reader reads too.
 *
 * <p>One field instead of eleven is what the reading client parses per entry: about half the
 * JVM's reply parsing and a third of Redis's XREAD (docs/BENCHMARKS.md, "One field per entry").
 * The lengths are text, not MessagePack headers, so a valid entry is valid UTF-8: a reader that
 * does not know the form (an earlier version) dead-letters it with its bytes intact, and a
 * replay by a version that knows it runs it.
 */
public final class CompactEntry {

    /** The field name, which names the format and its version. */
    public static final String FIELD = "e:1";
    /** A single field named so, with a number other than 1, is a format this version does not read. */
    private static final String FAMILY = "e:";
    private static final byte[] FIELD_BYTES = FIELD.getBytes(StandardCharsets.US_ASCII);
    private static final String[] NAMES = WireFormat.EVENT_FIELDS.toArray(new String[0]);
    private static final String[] IDS = {WireFormat.EVENT_ID, WireFormat.EXECUTION_ID};
    private static final byte[][] NAME_BYTES;
    /** A length has at most this many digits: values are far below 10^9 bytes (Redis caps a string at 512 MiB). */
    private static final int MAX_DIGITS = 9;

    static {
        NAME_BYTES = new byte[NAMES.length][];
        for (int i = 0; i < NAMES.length; i++) {
            NAME_BYTES[i] = NAMES[i].getBytes(StandardCharsets.US_ASCII);
        }
    }

    private CompactEntry() {
    }

    /** {@return whether {@code fields} are exactly the eleven wire fields, the only entries written compact} */
    public static boolean fits(Map<String, String> fields) {
        if (fields.size() != NAMES.length) {
            return false;
        }
        for (String n : NAMES) {
            if (fields.get(n) == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@return the fields to write for an entry of {@code fields}}: the one compact field when
     * they {@linkplain #fits fit}, else {@code fields} as they are.
     */
    public static Map<String, String> entry(Map<String, String> fields) {
        return fits(fields) ? Map.of(FIELD, value(fields)) : fields;
    }

    /** The compact value of fields that {@linkplain #fits fit}. */
    static String value(Map<String, String> fields) {
        int size = 32;
        for (String n : NAMES) {
            size += fields.get(n).length() + 4;
        }
        StringBuilder b = new StringBuilder(size);
        for (String n : NAMES) {
            String v = fields.get(n);
            b.append(utf8Length(v)).append(':').append(v);
        }
        return b.toString();
    }

    /**
     * The compact value of a raw entry (names and values as read, bytes) whose names are exactly
     * the eleven wire names, each once, in any order; else null. The values' bytes are copied as
     * they are, so one that is not UTF-8 reaches the reader, which dead-letters it with the reason.
     */
    public static byte[] fromRaw(List<?> raw) {
        if (raw.size() != 2 * NAMES.length) {
            return null;
        }
        byte[][] values = new byte[NAMES.length][];
        int size = 0;
        for (int i = 0; i < raw.size(); i += 2) {
            if (!(raw.get(i) instanceof byte[] name) || !(raw.get(i + 1) instanceof byte[] value)) {
                return null;
            }
            int k = nameIndex(name, i / 2);
            if (k < 0 || values[k] != null) {
                return null;
            }
            values[k] = value;
            size += value.length + 11;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        for (byte[] v : values) {
            out.writeBytes(Integer.toString(v.length).getBytes(StandardCharsets.US_ASCII));
            out.write(':');
            out.writeBytes(v);
        }
        return out.toByteArray();
    }

    private static int nameIndex(byte[] name, int expectedAt) {
        if (expectedAt < NAME_BYTES.length && Arrays.equals(NAME_BYTES[expectedAt], name)) {
            return expectedAt;
        }
        for (int k = 0; k < NAME_BYTES.length; k++) {
            if (Arrays.equals(NAME_BYTES[k], name)) {
                return k;
            }
        }
        return -1;
    }

    /**
     * The UTF-8 length of {@code s} as {@link String#getBytes} and the client encode it: an
     * unpaired surrogate becomes one byte ('?').
     */
    static int utf8Length(String s) {
        int n = s.length();
        int bytes = n;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                continue;
            }
            if (c < 0x800) {
                bytes += 1;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 2; // the pair's two chars are four bytes
                i++;
            } else if (!Character.isSurrogate(c)) {
                bytes += 2;
            }
        }
        return bytes;
    }

    /** {@return whether a raw entry is one field of the compact family ({@code e:<n>}), of any version} */
    static boolean isCompact(List<?> raw) {
        if (raw.size() != 2 || !(raw.get(0) instanceof byte[] name)) {
            return false;
        }
        if (Arrays.equals(FIELD_BYTES, name)) {
            return true;
        }
        if (name.length <= FAMILY.length() || name.length > FAMILY.length() + MAX_DIGITS
                || name[0] != 'e' || name[1] != ':') {
            return false;
        }
        for (int i = FAMILY.length(); i < name.length; i++) {
            if (name[i] < '0' || name[i] > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * A compact entry ({@link #isCompact}) as a delivery. Its fields are the eleven named values,
     * as an entry of named fields would have, so dead letters and retries carry the same. Strict:
     * a value that is not UTF-8 makes it malformed as in the named form (its fields then hold the
     * value with the bad bytes replaced); a length that is not one, a value running past the end,
     * fewer or more than eleven values, or another format number make it malformed with the whole
     * value kept under its field name, so the dead letter holds what was written.
     */
    static Delivery decode(String id, List<?> raw, WireFormat codec) {
        byte[] name = (byte[]) raw.get(0);
        byte[] b = raw.get(1) instanceof byte[] v ? v : new byte[0];
        if (!Arrays.equals(FIELD_BYTES, name)) {
            String format = new String(name, StandardCharsets.US_ASCII);
            return broken(id, format, b, "entry format '" + format + "' is not one this version reads (it reads '"
                    + FIELD + "' and named fields); written by a newer version?");
        }
        String[] values = new String[NAMES.length];
        String problem = null;
        int at = 0;
        for (int k = 0; k < NAMES.length; k++) {
            if (at >= b.length) {
                return broken(id, FIELD, b, "compact entry '" + FIELD + "' ends after " + k + " of "
                        + NAMES.length + " values, before '" + NAMES[k] + "'" + readSoFar(values));
            }
            int start = at;
            long len = 0;
            while (at < b.length && b[at] >= '0' && b[at] <= '9' && at - start < MAX_DIGITS) {
                len = len * 10 + (b[at] - '0');
                at++;
            }
            int digits = at - start;
            if (digits == 0 || at >= b.length || b[at] != ':' || (digits > 1 && b[start] == '0')) {
                return broken(id, FIELD, b, "compact entry '" + FIELD + "': the length of '" + NAMES[k]
                        + "' at byte " + start + " is not a decimal length and a colon" + readSoFar(values));
            }
            at++;
            if (len > b.length - at) {
                return broken(id, FIELD, b, "compact entry '" + FIELD + "': '" + NAMES[k] + "' is " + len
                        + " bytes, past the end of the entry (" + (b.length - at) + " left)" + readSoFar(values));
            }
            int n = (int) len;
            String value = StreamEntries.strict(b, at, n);
            if (value == null) {
                value = new String(b, at, n, StandardCharsets.UTF_8);
                if (problem == null) {
                    problem = "field '" + NAMES[k] + "' is not valid UTF-8 (" + n + " bytes)";
                }
            }
            values[k] = value;
            at += n;
        }
        if (at != b.length) {
            return broken(id, FIELD, b, "compact entry '" + FIELD + "' has " + (b.length - at)
                    + " bytes after its " + NAMES.length + " values" + readSoFar(values));
        }
        Map<String, String> fields = new NamedValues(NAMES, values);
        if (problem != null) {
            return Delivery.malformed(id, fields, 1, problem);
        }
        return codec.decode(id, fields);
    }

    /**
     * The ids read cleanly before the framing broke, for the reason: the dead letter keeps only the
     * one raw field, so without them an operator searching dead letters by event or execution id
     * (the dashboard searches reasons too) would not find this one. A value with bad UTF-8 is left
     * out, since it may not be the id at all.
     */
    private static String readSoFar(String[] values) {
        StringBuilder s = new StringBuilder();
        for (String name : IDS) {
            String v = values[WireFormat.EVENT_FIELDS.indexOf(name)];
            if (v != null && !v.isEmpty() && v.indexOf('\uFFFD') < 0) {
                s.append(s.length() == 0 ? " (read before it: " : ", ").append(name).append(" '")
                        .append(v.length() > 200 ? v.substring(0, 200) + "..." : v).append('\'');
            }
        }
        return s.length() == 0 ? "" : s.append(')').toString();
    }

    /** A malformed delivery keeping the entry's one field as it was written, decoded leniently for the dead letter. */
    private static Delivery broken(String id, String field, byte[] value, String reason) {
        Map<String, String> fields = new LinkedHashMap<>(2);
        fields.put(field, new String(value, StandardCharsets.UTF_8));
        return Delivery.malformed(id, fields, 1, reason);
    }
}
