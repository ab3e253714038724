package dev.workflowworker.benchmarks;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.wire.WireFormat;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.workflowworker.benchmarks.ReadPathScenario.args;
import static dev.workflowworker.benchmarks.ReadPathScenario.entriesOf;
import static dev.workflowworker.benchmarks.ReadPathScenario.pipelineRawAll;

/**
 * One partition entry as its 11 wire fields against the same fields as ONE field whose value is
 * consecutive MessagePack strings (the form the delayed store keeps, without the due time): what
 * each costs Redis to append and to read, the memory of the stream, and the JVM CPU of the reading
 * thread to read, parse and decode a batch into the same deliveries. The 11-field form is decoded
 * by the library's own steps ({@link #decodeWide}, a copy of worker-redis's internal decoder); the compact one by {@link #decode},
 * as strict about UTF-8. Forms alternate within each round and the figures are medians over rounds,
 * because other work may share the machine.
 */
final class ReadPathCompact {

    static final int ENTRIES = 100_000;
    static final int READ_COUNT = 500;
    static final int PUBLISH_BATCH = 500;
    static final int ROUNDS = 9;
    static final String FIELD = "e";
    /** The form worker-redis writes (its CompactEntry, internal to that module): lengths as decimal text. */
    static final String TEXT_FIELD = "e:1";
    private static final int WIDE = 0;
    private static final int TEXT = 2;
    private static final List<String> NAMES = WireFormat.EVENT_FIELDS;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ReadPathCompact() {
    }

    /** Median figures of one form over the rounds. */
    private static final class Figures {
        final double[] publishRedis = new double[ROUNDS];
        final double[] publishXaddUsec = new double[ROUNDS];
        final double[] bytesPerEntry = new double[ROUNDS];
        final double[] readRedis = new double[ROUNDS];
        final double[] readThread = new double[ROUNDS];
        final double[] readProcess = new double[ROUNDS];
        final double[] parseThread = new double[ROUNDS];
        final double[] decodeThread = new double[ROUNDS];
    }

    /** The rows alone ({@code --only readcompact}); {@code readpath} runs them after its own. */
    static List<BenchmarkMain.Row> run(String url) throws Exception {
        java.net.URI uri = java.net.URI.create(url);
        try (Jedis admin = new Jedis(uri);
             Connection c = new Connection(new redis.clients.jedis.HostAndPort(uri.getHost(), uri.getPort()))) {
            return run(url, admin, c);
        }
    }

    static List<BenchmarkMain.Row> run(String url, Jedis admin, Connection c) throws Exception {
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        Map<String, Object> big = new LinkedHashMap<>();
        big.put("ticket_id", "T-1234567");
        big.put("customer_id", "C-00042-EU");
        big.put("priority", 2);
        big.put("channel", "email");
        big.put("subject", "Order 88213 arrived damaged, asking for a replacement");
        big.put("note", "Customer called twice; prefers a callback after 17:00 CET. Box was crushed on one side.");
        big.put("tags", List.of("shipping", "damage", "vip"));
        big.put("amount_cents", 45990);
        for (Map<String, ?> payload : List.of(Map.<String, Object>of(), big)) {
            List<Map<String, String>> fields = events(payload);
            int payloadBytes = fields.get(0).get(WireFormat.PAYLOAD_JSON).getBytes(StandardCharsets.UTF_8).length;
            List<byte[]> packed = new ArrayList<>(fields.size());
            List<byte[]> texts = new ArrayList<>(fields.size());
            for (Map<String, String> f : fields) {
                packed.add(encode(f));
                texts.add(encodeText(f));
            }
            Figures wide = new Figures();
            Figures compact = new Figures();
            Figures text = new Figures();
            Figures[] byForm = {wide, compact, text};
            String load0 = load();
            for (int round = -1; round < ROUNDS; round++) {
                // round -1 is the JIT's; after that each round rotates which form goes first
                for (int k = 0; k < 3; k++) {
                    int form = Math.floorMod(round + k, 3);
                    oneRound(url, admin, c, form, fields, form == TEXT ? texts : packed, round, byForm[form]);
                }
            }
            String label = "payload " + payloadBytes + " B";
            String load = "load " + load0 + " -> " + load();
            rows.add(row("compact: XADD 22 args (11 fields), " + label, median(wide.publishRedis), "us redis/event",
                    String.format("XADD %.2f us/call; MEMORY USAGE %.0f B/entry; %s", median(wide.publishXaddUsec),
                            median(wide.bytesPerEntry), load)));
            rows.add(row("compact: XADD 2 args (one MessagePack field), " + label, median(compact.publishRedis),
                    "us redis/event", String.format("XADD %.2f us/call; MEMORY USAGE %.0f B/entry; %s",
                            median(compact.publishXaddUsec), median(compact.bytesPerEntry), load)));
            rows.add(row("compact: XREAD 500 + the reader decode (11 fields), " + label,
                    median(wide.readThread), "us JVM/event (reader thread)", readNote(wide, load)));
            rows.add(row("compact: XREAD 500 + MessagePack decode (one field), " + label,
                    median(compact.readThread), "us JVM/event (reader thread)", readNote(compact, load)));
            rows.add(row("compact: XADD 2 args (one field, text lengths as built), " + label, median(text.publishRedis),
                    "us redis/event", String.format("XADD %.2f us/call; MEMORY USAGE %.0f B/entry; %s",
                            median(text.publishXaddUsec), median(text.bytesPerEntry), load)));
            rows.add(row("compact: XREAD 500 + text-length decode (one field, as built), " + label,
                    median(text.readThread), "us JVM/event (reader thread)", readNote(text, load)));
        }
        admin.flushAll();
        return rows;
    }

    private static void oneRound(String url, Jedis admin, Connection c, int form, List<Map<String, String>> fields,
                                 List<byte[]> packed, int round, Figures into) throws Exception {
        boolean wide = form == WIDE;
        String key = "rp:form" + form;
        admin.del(key);
        CpuMeter cpu = CpuMeter.start(url);
        for (int from = 0; from < ENTRIES; from += PUBLISH_BATCH) {
            List<CommandArguments> batch = new ArrayList<>(PUBLISH_BATCH);
            for (int k = from; k < Math.min(ENTRIES, from + PUBLISH_BATCH); k++) {
                CommandArguments a = args(Protocol.Command.XADD).key(key).add("*");
                if (wide) {
                    fields.get(k).forEach((n, v) -> a.add(n).add(v));
                } else {
                    a.add(form == TEXT ? TEXT_FIELD : FIELD).add(packed.get(k));
                }
                batch.add(a);
            }
            pipelineRawAll(c, all -> batch);
        }
        CpuMeter.Usage publish = cpu.stop(ENTRIES);
        long bytes = (Long) c.executeCommand(args(Protocol.Command.MEMORY).add("USAGE").key(key).add("SAMPLES").add(0));
        List<List<?>> kept = new ArrayList<>(ENTRIES / READ_COUNT + 1);
        double parseOnly = read(c, key, form, false, kept);
        double decodeOnly = decodeAll(kept, form);
        kept = null;
        cpu = CpuMeter.start(url);
        double t = read(c, key, form, true, null);
        CpuMeter.Usage read = cpu.stop(ENTRIES);
        if (round >= 0) {
            into.publishRedis[round] = publish.redisMicrosPerEvent();
            into.publishXaddUsec[round] = usecPerCall(publish.commands(), "xadd");
            into.bytesPerEntry[round] = bytes / (double) ENTRIES;
            into.readRedis[round] = read.redisMicrosPerEvent();
            into.readThread[round] = t;
            into.readProcess[round] = read.jvmMicrosPerEvent();
            into.parseThread[round] = parseOnly;
            into.decodeThread[round] = decodeOnly;
        }
    }

    /**
     * Reads the whole stream, COUNT at a time. With {@code decode}, every entry becomes a delivery
     * (and must be a valid one); without, the reply is only parsed by the client, and its entries
     * go to {@code keep} for {@link #decodeAll}.
     *
     * @return the reader thread's CPU in us per event
     */
    private static double read(Connection c, String key, int form, boolean decode, List<List<?>> keep) {
        long t0 = THREADS.getCurrentThreadCpuTime();
        String after = "0-0";
        long n = 0;
        long sink = 0;
        while (true) {
            Object reply = c.executeCommand(args(Protocol.Command.XREAD).add("COUNT").add(READ_COUNT).add("STREAMS")
                    .key(key).add(after));
            List<?> entries = entriesOf(reply);
            if (entries.isEmpty()) {
                break;
            }
            for (Object e : entries) {
                List<?> entry = (List<?>) e;
                List<?> raw = (List<?>) entry.get(1);
                sink += decode ? deliver(entry, form) : raw.size();
            }
            if (keep != null) {
                keep.add(entries);
            }
            n += entries.size();
            after = text(((List<?>) entries.get(entries.size() - 1)).get(0));
        }
        long t = THREADS.getCurrentThreadCpuTime() - t0;
        if (n != ENTRIES || sink == 0) {
            throw new IllegalStateException("read " + n + " of " + ENTRIES);
        }
        return t / 1e3 / n;
    }

    /** Decodes entries parsed before: the decoding's share of a read, without the socket and the client. */
    private static double decodeAll(List<List<?>> batches, int form) {
        long t0 = THREADS.getCurrentThreadCpuTime();
        long n = 0;
        long sink = 0;
        for (List<?> entries : batches) {
            for (Object e : entries) {
                sink += deliver((List<?>) e, form);
            }
            n += entries.size();
        }
        long t = THREADS.getCurrentThreadCpuTime() - t0;
        if (sink == 0) {
            throw new IllegalStateException("nothing decoded");
        }
        return t / 1e3 / n;
    }

    private static int deliver(List<?> entry, int form) {
        String id = text(entry.get(0));
        List<?> raw = (List<?>) entry.get(1);
        WireFormat codec = WireFormat.defaults();
        Delivery d = form == WIDE ? decodeWide(id, raw, codec)
                : form == TEXT ? decodeText(id, raw, codec) : decode(id, raw, codec);
        if (d.decodeError() != null) {
            throw new IllegalStateException(d.decodeError());
        }
        return d.event().eventId().length();
    }

    /** The wire fields of encode, as the library writes them, for realistic events. */
    private static List<Map<String, String>> events(Map<String, ?> payload) {
        List<Map<String, String>> out = new ArrayList<>(ENTRIES);
        for (int k = 0; k < ENTRIES; k++) {
            WorkflowEvent e = WorkflowEvent.builder("TICKET_CREATED").eventId(new UUID(7, k).toString())
                    .executionId("exec-" + (k % 1024)).eventName("Ticket created").tenant("tenant-1")
                    .fromState("NEW").toState("OPEN").userId("user-" + (k % 100)).payload(payload).build();
            out.add(WireFormat.defaults().encode(e, 1));
        }
        return out;
    }

    /** The values of the wire fields, in wire order, as consecutive MessagePack strings. */
    static byte[] encode(Map<String, String> fields) {
        ByteBuffer out = ByteBuffer.allocate(64);
        for (String name : NAMES) {
            byte[] v = fields.getOrDefault(name, "").getBytes(StandardCharsets.UTF_8);
            if (out.remaining() < v.length + 5) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + v.length + 5));
                out.flip();
                out = bigger.put(out);
            }
            if (v.length < 32) {
                out.put((byte) (0xa0 | v.length));
            } else if (v.length < 256) {
                out.put((byte) 0xd9).put((byte) v.length);
            } else if (v.length < 65_536) {
                out.put((byte) 0xda).putShort((short) v.length);
            } else {
                out.put((byte) 0xdb).putInt(v.length);
            }
            out.put(v);
        }
        return Arrays.copyOf(out.array(), out.position());
    }

    /**
     * A compact entry {@code [e, bytes]} as a delivery: the strings strictly UTF-8, as
     * worker-redis's reader reads fields, into the same fields' map and the same codec.
     */
    static Delivery decode(String id, List<?> raw, WireFormat codec) {
        Map<String, String> fields = new LinkedHashMap<>(16);
        if (raw.size() != 2 || !(raw.get(1) instanceof byte[] b)) {
            return Delivery.malformed(id, fields, 1, "not one compact field");
        }
        int at = 0;
        for (String name : NAMES) {
            if (at >= b.length) {
                return Delivery.malformed(id, fields, 1, "compact entry ends before '" + name + "'");
            }
            int head = b[at++] & 0xff;
            int len;
            if ((head & 0xe0) == 0xa0) {
                len = head & 0x1f;
            } else if (head == 0xd9 && at + 1 <= b.length) {
                len = b[at++] & 0xff;
            } else if (head == 0xda && at + 2 <= b.length) {
                len = ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
                at += 2;
            } else if (head == 0xdb && at + 4 <= b.length) {
                len = ByteBuffer.wrap(b, at, 4).getInt();
                at += 4;
            } else {
                return Delivery.malformed(id, fields, 1, "field '" + name + "' is not a string");
            }
            if (len < 0 || len > b.length - at) {
                return Delivery.malformed(id, fields, 1, "field '" + name + "' runs past the entry");
            }
            String v = strict(b, at, len);
            if (v == null) {
                return Delivery.malformed(id, fields, 1, "field '" + name + "' is not valid UTF-8 (" + len + " bytes)");
            }
            fields.put(name, v);
            at += len;
        }
        if (at != b.length) {
            return Delivery.malformed(id, fields, 1, "compact entry has bytes after its fields");
        }
        return codec.decode(id, fields);
    }

    /** The values of the wire fields, in wire order, each as its UTF-8 length in decimal, a colon and its bytes. */
    static byte[] encodeText(Map<String, String> fields) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(256);
        for (String name : NAMES) {
            byte[] v = fields.getOrDefault(name, "").getBytes(StandardCharsets.UTF_8);
            out.writeBytes(Integer.toString(v.length).getBytes(StandardCharsets.US_ASCII));
            out.write(':');
            out.writeBytes(v);
        }
        return out.toByteArray();
    }

    /**
     * A text-length compact entry as a delivery, step for step as worker-redis's reader decodes
     * one (its internal CompactEntry.decode): lengths checked, every value strictly UTF-8.
     */
    static Delivery decodeText(String id, List<?> raw, WireFormat codec) {
        Map<String, String> fields = new LinkedHashMap<>(16);
        if (raw.size() != 2 || !(raw.get(1) instanceof byte[] b)) {
            return Delivery.malformed(id, fields, 1, "not one compact field");
        }
        int at = 0;
        for (String name : NAMES) {
            if (at >= b.length) {
                return Delivery.malformed(id, fields, 1, "compact entry ends before '" + name + "'");
            }
            int start = at;
            long len = 0;
            while (at < b.length && b[at] >= '0' && b[at] <= '9' && at - start < 9) {
                len = len * 10 + (b[at] - '0');
                at++;
            }
            int digits = at - start;
            if (digits == 0 || at >= b.length || b[at] != ':' || (digits > 1 && b[start] == '0')) {
                return Delivery.malformed(id, fields, 1, "no length for '" + name + "'");
            }
            at++;
            if (len > b.length - at) {
                return Delivery.malformed(id, fields, 1, "field '" + name + "' runs past the entry");
            }
            String v = strict(b, at, (int) len);
            if (v == null) {
                return Delivery.malformed(id, fields, 1, "field '" + name + "' is not valid UTF-8");
            }
            fields.put(name, v);
            at += (int) len;
        }
        if (at != b.length) {
            return Delivery.malformed(id, fields, 1, "compact entry has bytes after its fields");
        }
        return codec.decode(id, fields);
    }

    private static String text(Object o) {
        return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
    }

    /**
     * An 11-field entry as a delivery, the way worker-redis's reader decodes one (its
     * {@code StreamEntries.toDelivery}, internal to that module and so not callable from here):
     * each name matched against the wire's names in their expected place first, each value strictly
     * UTF-8, into a fields' map for the same codec. Kept step for step with it, so the two forms
     * are compared on the same work.
     */
    static Delivery decodeWide(String id, List<?> raw, WireFormat codec) {
        Map<String, String> fields = new LinkedHashMap<>(raw.size());
        for (int i = 0; i + 1 < raw.size(); i += 2) {
            byte[] name = (byte[]) raw.get(i);
            byte[] value = (byte[]) raw.get(i + 1);
            String fieldName = wireName(name, i / 2);
            if (fieldName == null) {
                fieldName = strict(name, 0, name.length);
            }
            String v = strict(value, 0, value.length);
            if (fieldName == null || v == null) {
                return Delivery.malformed(id, fields, 1, "field is not valid UTF-8");
            }
            fields.put(fieldName, v);
        }
        return codec.decode(id, fields);
    }

    private static final byte[][] NAME_BYTES = NAMES.stream()
            .map(n -> n.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);

    private static String wireName(byte[] b, int expectedAt) {
        if (expectedAt < NAME_BYTES.length && Arrays.equals(NAME_BYTES[expectedAt], b)) {
            return NAMES.get(expectedAt);
        }
        for (int i = 0; i < NAME_BYTES.length; i++) {
            if (NAME_BYTES[i].length == b.length && Arrays.equals(NAME_BYTES[i], b)) {
                return NAMES.get(i);
            }
        }
        return null;
    }

    private static String strict(byte[] b, int off, int len) {
        String s = new String(b, off, len, StandardCharsets.UTF_8);
        if (s.indexOf('\uFFFD') < 0) {
            return s;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, off, len)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String readNote(Figures f, String load) {
        return String.format("redis %.2f us/event; whole JVM %.2f us/event; reader thread: read+parse only %.2f, "
                        + "decode of parsed entries only %.2f us/event; medians of %d alternated rounds of %d entries; %s",
                median(f.readRedis), median(f.readProcess), median(f.parseThread), median(f.decodeThread), ROUNDS,
                ENTRIES, load);
    }

    /** "xadd 1.000 calls/event 2.3 us/call; ..." → 2.3, or NaN. */
    private static double usecPerCall(String commands, String command) {
        int at = commands.indexOf(command + " ");
        if (at < 0) {
            return Double.NaN;
        }
        String rest = commands.substring(at);
        int end = rest.indexOf(" us/call");
        return Double.parseDouble(rest.substring(rest.lastIndexOf(' ', end - 1) + 1, end));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String load() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return p[0] + "/" + p[1];
        } catch (Exception e) {
            return "?";
        }
    }

    private static BenchmarkMain.Row row(String metric, double value, String unit, String note) {
        return new BenchmarkMain.Row("read path", metric, value, unit, note);
    }
}
