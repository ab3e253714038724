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

    static final int P = 16;
    static final int COUNT = 256;
    static final String LEASE = "owner-1:7";

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
                        .key(stream(i)).key(lease(i)).key(key(i, ":completed")).add("g").add(LEASE).add(COUNT).add(">").add("0"));
                List<List<Object>> batches = new ArrayList<>();
                for (Object r : replies) {
                    batches.add(decode((List<?>) ((List<?>) r).get(0)));
                }
                groupCommit(c, commitSha, batches);
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
                    return args(Protocol.Command.EVALSHA).add(logCommitSha).add(5).key(lease(i)).key(key(i, ":log"))
                            .key(key(i, ":settled")).key(key(i, ":held")).key(key(i, ":recent")).add(LEASE)
                            .add(ids.isEmpty() ? "" : cursor[i]).add(committedCount[i]).add(16_384)
                            .add(done.isEmpty() ? "" : done.size() + "|" + packed).add(0).add(0).add(0);
                });
                return count(batches);
            }, "the path the partitioned mode runs: a read changes nothing, the commit is lease-checked"));

            ReadPathCandidates.add(rows, url, admin, c, perPartition, total, commitSha);
            rows.addAll(ReadPathCompact.run(url, admin, c));

        }
        return rows;
    }

    interface Round {
        long run() throws Exception;
    }

    interface PerPartition {
        CommandArguments args(int partition);
    }

    interface All {
        List<CommandArguments> args(int partitions);
    }

    static BenchmarkMain.Row measure(String metric, String url, Jedis admin, int perPartition, long total,
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

    static void fill(Jedis admin, int perPartition, boolean group) {
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


    static CommandArguments args(Protocol.Command command) {
        return new CommandArguments(command);
    }

    static List<List<Object>> pipeline(Connection c, PerPartition per) {
        List<Object> raw = pipelineRaw(c, per);
        List<List<Object>> out = new ArrayList<>(raw.size());
        for (Object r : raw) {
            out.add(r instanceof List<?> ? decode(entriesOf(r)) : List.of());
        }
        return out;
    }

    /** An XREAD/XREADGROUP reply [[stream, entries]] or an entries list; anything else is no entries. */
    static List<?> entriesOf(Object reply) {
        if (reply instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof List<?> first
                && first.size() == 2 && first.get(0) instanceof byte[] && first.get(1) instanceof List<?> es) {
            return es;
        }
        return reply instanceof List<?> l ? l : List.of();
    }

    static List<Object> entries(Object reply) {
        return reply instanceof List<?> l ? decode(entriesOf(l)) : List.of();
    }

    static List<Object> pipelineRaw(Connection c, PerPartition per) {
        return pipelineRawAll(c, all -> {
            List<CommandArguments> out = new ArrayList<>(P);
            for (int i = 0; i < P; i++) {
                out.add(per.args(i));
            }
            return out;
        });
    }

    static List<Object> pipelineRawAll(Connection c, All all) {
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
    static List<Object> decode(List<?> entries) {
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

    record DecodedEntry(String id, Map<String, String> fields) {
    }

    static List<String> ids(List<Object> batch) {
        List<String> out = new ArrayList<>(batch.size());
        for (Object e : batch) {
            out.add(((DecodedEntry) e).id());
        }
        return out;
    }

    static List<String> eventIds(List<Object> batch) {
        List<String> out = new ArrayList<>(batch.size());
        for (Object e : batch) {
            out.add(((DecodedEntry) e).fields().get("event_id"));
        }
        return out;
    }

    static long count(List<List<Object>> batches) {
        long n = 0;
        for (List<Object> b : batches) {
            n += b.size();
        }
        return n;
    }









    /** The consumer-group layout's commit of each partition's batch: ack, and remember the event ids. */
    static void groupCommit(Connection c, String commitSha, List<List<Object>> batches) {
        long now = System.currentTimeMillis();
        pipeline(c, i -> {
            List<String> ids = ids(batches.get(i));
            CommandArguments a = args(Protocol.Command.EVALSHA).add(commitSha).add(4).key(stream(i))
                    .key(lease(i)).key(key(i, ":held")).key(key(i, ":completed")).add("g").add(LEASE).add(now)
                    .add(ids.size());
            ids.forEach(a::add);
            for (String e : eventIds(batches.get(i))) {
                a.add(now).add(e);
            }
            return a;
        });
    }

    /** A script as worker-redis sends it: its {@code --@include name} lines replaced by those scripts. */
    private static String withIncludes(String name) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line : resource(name).split("\n", -1)) {
            out.append(line.startsWith("--@include ") ? resource(line.substring(11).trim() + ".lua") : line).append('\n');
        }
        return out.toString();
    }

    /** Partition i's stream ({@code suffix} empty) or one of its keys, all under one hash tag as in worker-redis. */
    static String key(int i, String suffix) {
        return "{bench#" + i + "}" + suffix;
    }

    static String stream(int i) {
        return key(i, "");
    }

    static String lease(int i) {
        return key(i, ":lease");
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
