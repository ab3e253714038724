package dev.workflowworker.benchmarks;

import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.util.SafeEncoder;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The read and commit path of one owned partition, alone: how much Redis and JVM CPU each way of
 * reading costs per event. P partitions of seed-format entries (10 fields), read 256 at a time
 * per partition, every read pipelined over the partitions, then every batch committed. Each
 * variant decodes the replies into strings as the engine must. The candidates:
 * <ul>
 *   <li>floors: {@code XREADGROUP >} + {@code XACK}; {@code XREAD} alone (no state changed);
 *   <li>today: {@code partition_read.lua} (lease check, XREADGROUP, newest id, completed ZMSCORE)
 *       + {@code partition_commit.lua} (lease check, XACK, HDEL held, ZADD completed);
 *   <li>A, the partition as a log: {@code XREAD} from the committed position; the commit checks
 *       the lease and moves the position (A1: duplicates recognised at publish, so nothing else;
 *       A2: duplicates recognised at read, a ZMSCORE round trip, and the commit remembers the ids);
 *   <li>B, group reads fenced by a transaction: {@code WATCH}+{@code GET} lease, then
 *       {@code MULTI}/{@code XREADGROUP}/{@code EXEC}, a ZMSCORE round trip, and a commit that acks
 *       and remembers.
 * </ul>
 * Plus the publish side of A1: {@code XADD} alone against a script that adds the event id to a
 * sorted set (NX) and appends only when it is new.
 */
final class ReadPathScenario {

    private static final int P = 16;
    private static final int COUNT = 256;
    private static final String LEASE = "owner-1:7";

    /**
     * The consumer-group layout's commit, as earlier versions ran it beside partition_read.lua:
     * lease check, XACK, HDEL of held marks, ZADD of the completed event ids.
     */
    private static final String GROUP_COMMIT = "if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end "
            + "local n = tonumber(ARGV[4]) local acked = 0 local i = 5 "
            + "while i <= 4 + n do local j = math.min(4 + n, i + 3999) "
            + "acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, j)) "
            + "redis.call('HDEL', KEYS[3], unpack(ARGV, i, j)) i = j + 1 end "
            + "i = 5 + n while i <= #ARGV do local j = math.min(#ARGV, i + 3999) "
            + "redis.call('ZADD', KEYS[4], unpack(ARGV, i, j)) i = j + 1 end return acked";
    /** A1's commit: the lease, then the position (never backwards). */
    private static final String COMMIT_POSITION = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
            + "redis.call('SET', KEYS[2], ARGV[2]) return 1";
    /** A2's commit: A1's, and the event ids remembered for the duplicate check. */
    private static final String COMMIT_POSITION_REMEMBER = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
            + "redis.call('SET', KEYS[2], ARGV[2]) "
            + "for i = 3, #ARGV, 4000 do redis.call('ZADD', KEYS[3], unpack(ARGV, i, math.min(#ARGV, i + 3999))) end "
            + "return 1";
    /**
     * A3's commit: A1's, and the batch's event ids as one packed string on a capped list, which a
     * new owner loads into memory: the duplicate check then costs Redis nothing per event.
     */
    private static final String COMMIT_POSITION_PACKED = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
            + "redis.call('SET', KEYS[2], ARGV[2]) redis.call('RPUSH', KEYS[3], ARGV[3]) "
            + "redis.call('LTRIM', KEYS[3], -4096, -1) return 1";
    /** A1's publish: append unless the event id was seen. */
    private static final String PUBLISH_ONCE = "if redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[2]) == 0 then return false end "
            + "return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))";

    private ReadPathScenario() {
    }

    static List<BenchmarkMain.Row> run(String url, int events) throws Exception {
        int perPartition = Math.max(COUNT, events / P / COUNT * COUNT);
        long total = (long) perPartition * P;
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        String read = resource("partition_read.lua");
        String commit = GROUP_COMMIT;
        String logCommit = withIncludes("partition_commit.lua");
        URI uri = URI.create(url);
        try (Jedis admin = new Jedis(uri);
             Connection c = new Connection(new HostAndPort(uri.getHost(), uri.getPort()))) {
            String readSha = admin.scriptLoad(read);
            String commitSha = admin.scriptLoad(commit);
            String logCommitSha = admin.scriptLoad(logCommit);
            String positionSha = admin.scriptLoad(COMMIT_POSITION);
            String rememberSha = admin.scriptLoad(COMMIT_POSITION_REMEMBER);
            String packedSha = admin.scriptLoad(COMMIT_POSITION_PACKED);

            rows.add(measure("floor: XREADGROUP > + XACK", url, admin, perPartition, total, true, () -> {
                List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREADGROUP).add("GROUP").add("g")
                        .add("owner").add("COUNT").add(COUNT).add("STREAMS").add(stream(i)).add(">"));
                pipelineRaw(c, i -> args(Protocol.Command.XACK).key(stream(i)).add("g")
                        .addObjects(ids(batches.get(i)).toArray()));
                return count(batches);
            }, "the raw floor: group bookkeeping, no checks"));

            String[] after = new String[P];
            rows.add(measure("floor: XREAD alone", url, admin, perPartition, total, false, () -> {
                List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREAD).add("COUNT").add(COUNT)
                        .add("STREAMS").add(stream(i)).add(after[i] == null ? "0-0" : after[i]));
                for (int i = 0; i < P; i++) {
                    List<String> ids = ids(entries(batches.get(i)));
                    after[i] = ids.isEmpty() ? after[i] : ids.get(ids.size() - 1);
                }
                return count(batches);
            }, "a read that changes nothing: the new physical limit"));

            rows.add(measure("earlier: partition_read.lua + the consumer-group commit", url, admin, perPartition, total, true,
                    () -> {
                List<Object> replies = pipelineRaw(c, i -> args(Protocol.Command.EVALSHA).add(readSha).add(3)
                        .key(stream(i)).key(lease(i)).key(completed(i)).add("g").add(LEASE).add(COUNT).add(">").add("0"));
                List<List<Object>> batches = new ArrayList<>();
                for (Object r : replies) {
                    batches.add(decode((List<?>) ((List<?>) r).get(0)));
                }
                long now = System.currentTimeMillis();
                pipeline(c, i -> {
                    List<String> ids = ids(batches.get(i));
                    CommandArguments a = args(Protocol.Command.EVALSHA).add(commitSha).add(4).key(stream(i))
                            .key(lease(i)).key(held(i)).key(completed(i)).add("g").add(LEASE).add(now).add(ids.size());
                    ids.forEach(a::add);
                    for (String e : eventIds(batches.get(i))) {
                        a.add(now).add(e);
                    }
                    return a;
                });
                return count(batches);
            }, "lease-checked Lua read (the reply converted in Lua) and commit"));

            String[] cursor = new String[P];
            long[] committedCount = new long[P];
            rows.add(measure("built: XREAD + GET lease, partition_commit.lua (position, recent ids)", url, admin,
                    perPartition, total, false, () -> {
                List<Object> raw = pipelineRawAll(c, all -> {
                    List<CommandArguments> out = new ArrayList<>(2 * P);
                    for (int i = 0; i < P; i++) {
                        out.add(args(Protocol.Command.GET).key(lease(i)));
                    }
                    for (int i = 0; i < P; i++) {
                        out.add(args(Protocol.Command.XREAD).add("COUNT").add(COUNT).add("STREAMS").add(stream(i))
                                .add(cursor[i] == null ? "0-0" : cursor[i]));
                    }
                    return out;
                });
                List<List<Object>> batches = new ArrayList<>(P);
                for (int i = 0; i < P; i++) {
                    if (!LEASE.equals(SafeEncoder.encode((byte[]) raw.get(i)))) {
                        throw new IllegalStateException("lease not held");
                    }
                    Object r = raw.get(P + i);
                    batches.add(r instanceof List<?> ? decode(entriesOf(r)) : List.of());
                }
                pipeline(c, i -> {
                    List<String> ids = ids(batches.get(i));
                    cursor[i] = ids.isEmpty() ? cursor[i] : ids.get(ids.size() - 1);
                    committedCount[i] += ids.size();
                    StringBuilder packed = new StringBuilder();
                    List<String> done = eventIds(batches.get(i));
                    for (String e : done) {
                        packed.append(e.length()).append(':').append(e);
                    }
                    return args(Protocol.Command.EVALSHA).add(logCommitSha).add(5).key(lease(i)).key(log(i))
                            .key(settled(i)).key(held(i)).key(recent(i)).add(LEASE)
                            .add(ids.isEmpty() ? "" : cursor[i]).add(committedCount[i]).add(16_384)
                            .add(done.isEmpty() ? "" : done.size() + "|" + packed).add(0).add(0).add(0);
                });
                return count(batches);
            }, "the path the partitioned mode runs: a read changes nothing, the commit is lease-checked"));

            String[] position = new String[P];
            rows.add(measure("A1: XREAD from position + position commit (duplicates at publish)", url, admin,
                    perPartition, total, false, () -> {
                List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREAD).add("COUNT").add(COUNT)
                        .add("STREAMS").add(stream(i)).add(position[i] == null ? "0-0" : position[i]));
                pipeline(c, i -> {
                    List<String> ids = ids(entries(batches.get(i)));
                    position[i] = ids.isEmpty() ? position[i] : ids.get(ids.size() - 1);
                    return args(Protocol.Command.EVALSHA).add(positionSha).add(2).key(lease(i)).key(committed(i))
                            .add(LEASE).add(position[i] == null ? "0-0" : position[i]);
                });
                return count(batches);
            }, "no group, no Lua on the read; the commit is a lease check and a SET"));

            String[] position2 = new String[P];
            rows.add(measure("A2: XREAD + ZMSCORE round trip + commit remembering ids", url, admin, perPartition,
                    total, false, () -> {
                List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREAD).add("COUNT").add(COUNT)
                        .add("STREAMS").add(stream(i)).add(position2[i] == null ? "0-0" : position2[i]));
                pipelineRaw(c, i -> {
                    CommandArguments a = args(Protocol.Command.ZMSCORE).key(completed(i));
                    eventIds(entries(batches.get(i))).forEach(a::add);
                    return a;
                });
                long now = System.currentTimeMillis();
                pipeline(c, i -> {
                    List<String> ids = ids(entries(batches.get(i)));
                    position2[i] = ids.isEmpty() ? position2[i] : ids.get(ids.size() - 1);
                    CommandArguments a = args(Protocol.Command.EVALSHA).add(rememberSha).add(3).key(lease(i))
                            .key(committed(i)).key(completed(i)).add(LEASE)
                            .add(position2[i] == null ? "0-0" : position2[i]);
                    for (String e : eventIds(entries(batches.get(i)))) {
                        a.add(now).add(e);
                    }
                    return a;
                });
                return count(batches);
            }, "duplicates recognised at read: one more round trip, ids remembered at commit"));

            String[] position3 = new String[P];
            java.util.Set<String> seen = new java.util.HashSet<>();
            rows.add(measure("A3: XREAD + commit with the batch's ids packed (duplicates checked in memory)", url,
                    admin, perPartition, total, false, () -> {
                List<List<Object>> batches = pipeline(c, i -> args(Protocol.Command.XREAD).add("COUNT").add(COUNT)
                        .add("STREAMS").add(stream(i)).add(position3[i] == null ? "0-0" : position3[i]));
                pipeline(c, i -> {
                    List<String> ids = ids(batches.get(i));
                    position3[i] = ids.isEmpty() ? position3[i] : ids.get(ids.size() - 1);
                    List<String> eventIds = eventIds(batches.get(i));
                    for (String e : eventIds) {
                        if (!seen.add(e)) {
                            throw new IllegalStateException("duplicate " + e);
                        }
                    }
                    if (seen.size() > 1_000_000) {
                        seen.clear();
                    }
                    return args(Protocol.Command.EVALSHA).add(packedSha).add(3).key(lease(i)).key(committed(i))
                            .key(recent(i)).add(LEASE).add(position3[i] == null ? "0-0" : position3[i])
                            .add(String.join("\n", eventIds));
                });
                return count(batches);
            }, "ids remembered per batch, one list push; checked against the owner's memory"));

            rows.add(measure("B: WATCH+GET, MULTI/XREADGROUP/EXEC, ZMSCORE, ack+remember commit", url, admin,
                    perPartition, total, true, () -> {
                List<Object> leases = pipelineRawAll(c, all -> {
                    List<CommandArguments> out = new ArrayList<>();
                    CommandArguments watch = args(Protocol.Command.WATCH);
                    for (int i = 0; i < P; i++) {
                        watch.key(lease(i));
                    }
                    out.add(watch);
                    for (int i = 0; i < P; i++) {
                        out.add(args(Protocol.Command.GET).key(lease(i)));
                    }
                    return out;
                });
                for (int i = 1; i <= P; i++) {
                    if (!LEASE.equals(SafeEncoder.encode((byte[]) leases.get(i)))) {
                        throw new IllegalStateException("lease not held");
                    }
                }
                List<Object> tx = pipelineRawAll(c, all -> {
                    List<CommandArguments> out = new ArrayList<>();
                    out.add(args(Protocol.Command.MULTI));
                    for (int i = 0; i < P; i++) {
                        out.add(args(Protocol.Command.XREADGROUP).add("GROUP").add("g").add("owner").add("COUNT")
                                .add(COUNT).add("STREAMS").add(stream(i)).add(">"));
                    }
                    out.add(args(Protocol.Command.EXEC));
                    return out;
                });
                List<?> exec = (List<?>) tx.get(tx.size() - 1);
                List<List<Object>> batches = new ArrayList<>();
                for (Object r : exec) {
                    batches.add(r == null ? List.of() : entries(r));
                }
                pipelineRaw(c, i -> {
                    CommandArguments a = args(Protocol.Command.ZMSCORE).key(completed(i));
                    eventIds(batches.get(i)).forEach(a::add);
                    return a;
                });
                long now = System.currentTimeMillis();
                pipeline(c, i -> {
                    List<String> ids = ids(batches.get(i));
                    CommandArguments a = args(Protocol.Command.EVALSHA).add(commitSha).add(4).key(stream(i))
                            .key(lease(i)).key(held(i)).key(completed(i)).add("g").add(LEASE).add(now).add(ids.size());
                    ids.forEach(a::add);
                    for (String e : eventIds(batches.get(i))) {
                        a.add(now).add(e);
                    }
                    return a;
                });
                return count(batches);
            }, "keeps the pending list; two round trips to read, one transaction for all partitions (one server only)"));

            rows.addAll(publishRows(url, admin, c));
        }
        return rows;
    }

    private interface Round {
        long run() throws Exception;
    }

    private interface PerPartition {
        CommandArguments args(int partition);
    }

    private interface All {
        List<CommandArguments> args(int partitions);
    }

    private static BenchmarkMain.Row measure(String metric, String url, Jedis admin, int perPartition, long total,
                                             boolean group, Round round, String note) throws Exception {
        fill(admin, perPartition, group);
        // one round of each kind unmeasured: scripts cached, connections warm
        long done = round.run();
        CpuMeter cpu = CpuMeter.start(url);
        long t0 = System.nanoTime();
        long measured = 0;
        while (done + measured < total) {
            long n = round.run();
            if (n == 0) {
                break;
            }
            measured += n;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        CpuMeter.Usage use = cpu.stop(measured);
        admin.flushAll();
        return new BenchmarkMain.Row("read path", metric, use.redisMicrosPerEvent(), "us redis/event",
                String.format("%s; %.2f us JVM/event, %.0f events/s alone; %s", note, use.jvmMicrosPerEvent(),
                        measured / seconds, use.commands()));
    }

    private static void fill(Jedis admin, int perPartition, boolean group) {
        admin.flushAll();
        String payload = "{\"ticket_id\":\"T-12345\",\"priority\":2,\"note\":\"customer asked for a callback\"}";
        for (int i = 0; i < P; i++) {
            admin.set(lease(i), LEASE);
            if (group) {
                admin.xgroupCreate(stream(i), "g", redis.clients.jedis.StreamEntryID.XGROUP_LAST_ENTRY, true);
            }
            var p = admin.pipelined();
            for (int k = 0; k < perPartition; k++) {
                Map<String, String> f = new java.util.LinkedHashMap<>();
                f.put("event_id", "e-" + i + "-" + k);
                f.put("execution_id", "exec-" + (k % 64));
                f.put("event_name", "TICKET_CREATED");
                f.put("event_type", "TICKET_CREATED");
                f.put("tenant", "tenant-1");
                f.put("payload_json", payload);
                f.put("timestamp", "2026-12-06T02:00:00.000Z");
                f.put("attempt", "1");
                f.put("headers_json", "{}");
                f.put("lock_key", "exec-" + (k % 64));
                p.xadd(stream(i), redis.clients.jedis.StreamEntryID.NEW_ENTRY, f);
            }
            p.sync();
        }
    }

    /** The publish side of A1: what recognising a duplicate at publish costs beside a plain XADD. */
    private static List<BenchmarkMain.Row> publishRows(String url, Jedis admin, Connection c) throws Exception {
        String onceSha = admin.scriptLoad(PUBLISH_ONCE);
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        int n = 100_000;
        for (boolean once : new boolean[] {false, true}) {
            admin.flushAll();
            CpuMeter cpu = null;
            for (int b = -20; b < n / COUNT; b++) {
                if (b == 0) {
                    cpu = CpuMeter.start(url);
                }
                int base = (b + 20) * COUNT;
                List<CommandArguments> batch = new ArrayList<>(COUNT);
                for (int k = 0; k < COUNT; k++) {
                    int id = base + k;
                    String s = stream(id % P);
                    CommandArguments a = once
                            ? args(Protocol.Command.EVALSHA).add(onceSha).add(2).key(s).key(completed(id % P))
                                    .add(1_764_990_000_000L + id).add("e-" + id)
                            : args(Protocol.Command.XADD).key(s).add("*");
                    a.add("event_id").add("e-" + id).add("execution_id").add("exec-" + (id % 64))
                            .add("event_type").add("TICKET_CREATED").add("payload_json").add("{\"ticket_id\":\"T-1\"}");
                    batch.add(a);
                }
                final List<CommandArguments> send = batch;
                pipelineRawAll(c, all -> send);
            }
            CpuMeter.Usage use = cpu.stop((long) n / COUNT * COUNT);
            rows.add(new BenchmarkMain.Row("read path", once ? "publish: script ZADD NX + XADD" : "publish: XADD",
                    use.redisMicrosPerEvent(), "us redis/event", use.commands()));
        }
        admin.flushAll();
        return rows;
    }

    private static CommandArguments args(Protocol.Command command) {
        return new CommandArguments(command);
    }

    private static List<List<Object>> pipeline(Connection c, PerPartition per) {
        List<Object> raw = pipelineRaw(c, per);
        List<List<Object>> out = new ArrayList<>(raw.size());
        for (Object r : raw) {
            out.add(r instanceof List<?> ? decode(entriesOf(r)) : List.of());
        }
        return out;
    }

    /** An XREAD/XREADGROUP reply [[stream, entries]] or an entries list; anything else is no entries. */
    private static List<?> entriesOf(Object reply) {
        if (reply instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof List<?> first
                && first.size() == 2 && first.get(0) instanceof byte[] && first.get(1) instanceof List<?> es) {
            return es;
        }
        return reply instanceof List<?> l ? l : List.of();
    }

    private static List<Object> entries(Object reply) {
        return reply instanceof List<?> l ? decode(entriesOf(l)) : List.of();
    }

    private static List<Object> pipelineRaw(Connection c, PerPartition per) {
        return pipelineRawAll(c, all -> {
            List<CommandArguments> out = new ArrayList<>(P);
            for (int i = 0; i < P; i++) {
                out.add(per.args(i));
            }
            return out;
        });
    }

    private static List<Object> pipelineRawAll(Connection c, All all) {
        List<CommandArguments> commands = all.args(P);
        for (CommandArguments a : commands) {
            c.sendCommand(a);
        }
        List<Object> replies = c.getMany(commands.size());
        for (Object r : replies) {
            if (r instanceof RuntimeException e) {
                throw e;
            }
        }
        return replies;
    }

    /**
     * Entries as the engine needs them: id and fields as strings. Already-decoded lists pass
     * through, so a batch decoded once is not decoded again.
     */
    private static List<Object> decode(List<?> entries) {
        List<Object> out = new ArrayList<>(entries.size());
        for (Object e : entries) {
            if (e instanceof DecodedEntry d) {
                out.add(d);
                continue;
            }
            List<?> entry = (List<?>) e;
            List<?> raw = (List<?>) entry.get(1);
            Map<String, String> fields = new HashMap<>(raw.size());
            for (int k = 0; k + 1 < raw.size(); k += 2) {
                fields.put(SafeEncoder.encode((byte[]) raw.get(k)), SafeEncoder.encode((byte[]) raw.get(k + 1)));
            }
            out.add(new DecodedEntry(SafeEncoder.encode((byte[]) entry.get(0)), fields));
        }
        return out;
    }

    private record DecodedEntry(String id, Map<String, String> fields) {
    }

    private static List<String> ids(List<Object> batch) {
        List<String> out = new ArrayList<>(batch.size());
        for (Object e : batch) {
            out.add(((DecodedEntry) e).id());
        }
        return out;
    }

    private static List<String> eventIds(List<Object> batch) {
        List<String> out = new ArrayList<>(batch.size());
        for (Object e : batch) {
            out.add(((DecodedEntry) e).fields().get("event_id"));
        }
        return out;
    }

    private static long count(List<List<Object>> batches) {
        long n = 0;
        for (List<Object> b : batches) {
            n += b.size();
        }
        return n;
    }

    private static String stream(int i) {
        return "{bench#" + i + "}";
    }

    private static String lease(int i) {
        return "{bench#" + i + "}:lease";
    }

    private static String completed(int i) {
        return "{bench#" + i + "}:completed";
    }

    private static String committed(int i) {
        return "{bench#" + i + "}:committed";
    }

    private static String log(int i) {
        return "{bench#" + i + "}:log";
    }

    private static String settled(int i) {
        return "{bench#" + i + "}:settled";
    }

    private static String recent(int i) {
        return "{bench#" + i + "}:recent";
    }

    private static String held(int i) {
        return "{bench#" + i + "}:held";
    }

    /** A script as worker-redis sends it: its {@code --@include name} lines replaced by those scripts. */
    private static String withIncludes(String name) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line : resource(name).split("\n", -1)) {
            out.append(line.startsWith("--@include ") ? resource(line.substring(11).trim() + ".lua") : line).append('\n');
        }
        return out.toString();
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ReadPathScenario.class.getResourceAsStream("/dev/workflowworker/redis/" + name)) {
            if (in == null) {
                throw new IllegalStateException("script " + name + " not on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
