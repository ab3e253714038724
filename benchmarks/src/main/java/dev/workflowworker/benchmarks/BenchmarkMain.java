package dev.workflowworker.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the benchmark scenarios in one invocation against one Redis, so ratios are comparable on a
 * noisy machine, prints a table and writes the results as JSON.
 *
 * <p>Usage: {@code BenchmarkMain --redis redis://127.0.0.1:PORT [--node-dir benchmarks/node]
 * [--out benchmarks/target/results.json] [--events 200000] [--only a,b] [--configs 4x64x256,...]
 * [--partitions 16] [--partitioned-config 2x256x512] [--time-seconds 30] [--time-promoted 200000]
 * [--time-pending 1000000] [--time-schedules 10000]}; {@code --only partitioned-throughput} runs
 * the partitioned throughput rows alone, {@code --only partitioned-scaling} the partitioned 1, 2
 * and 4 processes alone, {@code --only partitioned-many-keys} only their many-keys pass
 * (for A/B runs and profiles of the JVM's path), {@code --only partitioned-latency} the
 * partitioned latency row alone (beside {@code latency}, the shared stream's), {@code --only readcompact} the compact-entry rows of
 * {@code readpath} alone, {@code --only partitioned-seed} the seed-format row alone (with
 * {@code partitioned-many-keys}, beside the direct-publish row it is compared with), {@code --only
 * partitioned-seed-latency} the partitioned latency row with seed-format producers (not in a full run)
 *
 * <p>The partitioned rows ({@code partitioned}) run right after their shared-stream counterparts
 * (throughput after {@code redis}, latency after {@code latency}, processes after
 * {@code scaling}), so each pair sees the machine in about the same state; the run ends with
 * the partitioned mode's ratios to whatever of the raw floor, BullMQ and the shared stream ran.
 */
public final class BenchmarkMain {

    /** One measured row. */
    record Row(String scenario, String metric, double value, String unit, String note) {
    }

    private BenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String redis = opt.get("redis");
        int events = Integer.parseInt(opt.getOrDefault("events", "200000"));
        String only = opt.getOrDefault("only", "");
        Path out = Path.of(opt.getOrDefault("out", "benchmarks/target/results.json"));
        List<Row> rows = new ArrayList<>();

        if (wanted(only, "inmemory")) {
            rows.addAll(InMemoryScenario.run(Math.max(events, 500_000),
                    opt.getOrDefault("inmemory-configs", InMemoryScenario.DEFAULT_CONFIGS)));
        }
        if (redis != null && wanted(only, "raw")) {
            rows.addAll(RawRedisScenario.run(redis, events));
        }
        if (redis != null && wanted(only, "readpath")) {
            rows.addAll(ReadPathScenario.run(redis, events));
        }
        if (redis != null && !wanted(only, "readpath") && wanted(only, "readcompact")) {
            rows.addAll(ReadPathCompact.run(redis));
        }
        if (redis != null && wanted(only, "costs")) {
            rows.addAll(ScriptCostScenario.run(redis));
        }
        if (redis != null && wanted(only, "redis")) {
            rows.addAll(RedisServiceScenario.throughput(redis, events,
                    opt.getOrDefault("configs", RedisServiceScenario.DEFAULT_CONFIGS)));
        }
        int partitions = Integer.parseInt(opt.getOrDefault("partitions",
                Integer.toString(PartitionedScenario.DEFAULT_PARTITIONS)));
        boolean partitioned = redis != null && wanted(only, "partitioned");
        boolean manyKeysOnly = redis != null && List.of(only.split(",")).contains("partitioned-many-keys");
        if (partitioned || manyKeysOnly || redis != null && List.of(only.split(",")).contains("partitioned-throughput")) {
            rows.addAll(PartitionedScenario.throughput(redis, events, partitions,
                    opt.getOrDefault("partitioned-config", PartitionedScenario.DEFAULT_CONFIG), !manyKeysOnly));
        }
        if (partitioned || redis != null && List.of(only.split(",")).contains("partitioned-seed")) {
            rows.addAll(PartitionedScenario.seed(redis, events, partitions,
                    opt.getOrDefault("partitioned-config", PartitionedScenario.DEFAULT_CONFIG)));
        }
        int latencySeconds = Integer.parseInt(opt.getOrDefault("latency-seconds", "30"));
        if (redis != null && wanted(only, "latency")) {
            rows.addAll(RedisServiceScenario.latency(redis, 1000, latencySeconds));
        }
        if (partitioned || redis != null && List.of(only.split(",")).contains("partitioned-latency")) {
            rows.addAll(PartitionedScenario.latency(redis, partitions, 1000, latencySeconds));
        }
        if (redis != null && List.of(only.split(",")).contains("partitioned-seed-latency")) {
            rows.addAll(PartitionedScenario.seedLatency(redis, partitions, 1000, latencySeconds));
        }
        if (redis != null && wanted(only, "scaling")) {
            rows.addAll(ScalingScenario.run(redis, events));
        }
        if (partitioned || redis != null && List.of(only.split(",")).contains("partitioned-scaling")) {
            rows.addAll(ScalingScenario.run(redis, events, partitions));
        }
        if (redis != null && wanted(only, "memory")) {
            rows.addAll(RedisServiceScenario.memory(redis, Integer.parseInt(opt.getOrDefault("memory-events", "1000000"))));
        }
        if (redis != null && wanted(only, "time")) {
            rows.addAll(TimeScenario.run(redis, 1000, Integer.parseInt(opt.getOrDefault("time-seconds", "30")),
                    Integer.parseInt(opt.getOrDefault("time-promoted", "200000")),
                    Integer.parseInt(opt.getOrDefault("time-pending", "1000000")),
                    Integer.parseInt(opt.getOrDefault("time-schedules", "10000"))));
        }
        if (redis != null && wanted(only, "bullmq")) {
            rows.addAll(BullMqScenario.run(redis, events, Path.of(opt.getOrDefault("node-dir", "benchmarks/node"))));
        }
        if (redis != null && wanted(only, "dashboard")) {
            rows.addAll(DashboardScenario.run(redis));
        }
        if (opt.containsKey("cluster1") && opt.containsKey("cluster3") && wanted(only, "cluster")) {
            // --cluster-pin false: the cluster rows without their fixed CPUs (see CpuPinning)
            System.setProperty("bench.cluster.pin", opt.getOrDefault("cluster-pin", "true"));
            // --cluster-rate 25000,50000: paced passes at those events/s ("0" for none); --cluster-control
            // false leaves out the one master beside busy neighbours (see ClusterPaced, BusyNeighbours)
            List<Integer> rates = new ArrayList<>();
            for (String r : opt.getOrDefault("cluster-rate", "25000,50000").split(",")) {
                if (!r.isBlank() && Integer.parseInt(r.trim()) > 0) {
                    rates.add(Integer.parseInt(r.trim()));
                }
            }
            rows.addAll(ClusterScenario.run(redis, opt.get("cluster1"), opt.get("cluster3"), events,
                    opt.getOrDefault("partitioned-config", PartitionedScenario.DEFAULT_CONFIG), rates,
                    Integer.parseInt(opt.getOrDefault("cluster-rate-seconds", "8")),
                    !"false".equals(opt.get("cluster-control"))));
        }
        if (opt.containsKey("cluster1") && opt.containsKey("cluster3") && List.of(only.split(",")).contains("cluster-idle")) {
            // Calls per master, idle and under a light pace (--cluster-idle-rate), with the default 16 partitions.
            rows.addAll(ClusterIdle.run(opt.get("cluster1"), opt.get("cluster3"),
                    Integer.parseInt(opt.getOrDefault("cluster-idle-seconds", "10")),
                    Integer.parseInt(opt.getOrDefault("cluster-idle-rate", "1000")),
                    Integer.parseInt(opt.getOrDefault("cluster-idle-seconds", "10"))));
        }
        if (partitioned || List.of(only.split(",")).contains("partitioned-scaling")
                || List.of(only.split(",")).contains("partitioned-seed")) {
            rows.addAll(comparisons(rows));
        }
        print(rows);
        write(rows, out);
    }

    /** The partitioned mode against the targets, as ratios within this run. */
    static List<Row> comparisons(List<Row> rows) {
        List<Row> out = new ArrayList<>();
        String s = "partitioned vs";
        Double four = value(rows, "partitioned scaling", "4 service process(es)");
        Double one = value(rows, "partitioned scaling", "1 service process(es)");
        if (four != null && one != null) {
            out.add(new Row(s, "4 processes / 1 process", four / one, "x", "target >= 0.9; first pass of new JVMs"));
        }
        Double fourSteady = value(rows, "partitioned scaling", "4 process(es), steady state");
        Double oneSteady = value(rows, "partitioned scaling", "1 process(es), steady state");
        if (fourSteady != null && oneSteady != null) {
            out.add(new Row(s, "4 processes / 1, steady state", fourSteady / oneSteady, "x",
                    "target >= 0.9; once every JVM's JIT settled"));
        }
        Double part = value(rows, "partitioned", PartitionedScenario.HEADLINE);
        Double seed = value(rows, "partitioned", PartitionedScenario.SEED);
        if (part != null && seed != null) {
            Double cpu = valueAfter(rows, "partitioned", PartitionedScenario.HEADLINE);
            Double seedCpu = valueAfter(rows, "partitioned", PartitionedScenario.SEED);
            out.add(new Row(s, "seed-format XADD / direct publish", seed / part, "x", String.format(
                    "Redis CPU per event %.2f us against %.2f us: the router's share %.2f us", seedCpu, cpu,
                    seedCpu - cpu)));
        }
        if (part == null) {
            return out;
        }
        Double raw = value(rows, "raw redis floor", "XREADGROUP+XACK loop");
        if (raw != null) {
            out.add(new Row(s, "raw XREADGROUP+XACK floor", part / raw, "x", "target >= 0.7 (stretch 0.8)"));
        }
        Double log = value(rows, "raw XREAD floor", RawRedisScenario.LOG_HEADLINE);
        if (log != null) {
            out.add(new Row(s, "raw XREAD floor", part / log, "x", "the side-effect-free read: the physical limit"));
        }
        Double bull = value(rows, "bullmq", "no-op jobs");
        if (bull != null && !bull.isNaN()) {
            out.add(new Row(s, "BullMQ", part / bull, "x", "target >= 8"));
        }
        Double shared = value(rows, "redis throughput", "best");
        if (shared != null) {
            out.add(new Row(s, "shared stream, best configuration", part / shared, "x", ""));
        }
        Double cpu = valueAfter(rows, "partitioned", PartitionedScenario.HEADLINE);
        Double floorCpu = valueAfter(rows, "raw redis floor", "XREADGROUP+XACK loop");
        if (cpu != null && floorCpu != null) {
            out.add(new Row(s, "Redis CPU per event / the floor's", cpu / floorCpu, "x",
                    String.format("target <= 1.25; %.2f us against %.2f us", cpu, floorCpu)));
        } else if (cpu != null) {
            out.add(new Row(s, "Redis CPU per event", cpu, "us", "no floor in this run to compare with"));
        }
        return out;
    }

    /** The first row whose scenario starts with {@code scenario} and whose metric is {@code metric}. */
    private static Double value(List<Row> rows, String scenario, String metric) {
        for (Row r : rows) {
            if (r.scenario().startsWith(scenario) && r.metric().equals(metric)) {
                return r.value();
            }
        }
        return null;
    }

    /** The row right after that one: its CPU row. */
    private static Double valueAfter(List<Row> rows, String scenario, String metric) {
        for (int i = 0; i + 1 < rows.size(); i++) {
            Row r = rows.get(i);
            if (r.scenario().equals(scenario) && r.metric().equals(metric)) {
                return rows.get(i + 1).value();
            }
        }
        return null;
    }

    private static boolean wanted(String only, String name) {
        return only.isEmpty() || List.of(only.split(",")).contains(name);
    }

    private static void print(List<Row> rows) {
        System.out.printf("%n%-28s %-34s %14s  %-8s %s%n", "scenario", "metric", "value", "unit", "note");
        System.out.println("-".repeat(110));
        for (Row r : rows) {
            System.out.printf("%-28s %-34s %14s  %-8s %s%n", r.scenario(), r.metric(), format(r.value()), r.unit(),
                    r.note() == null ? "" : r.note());
        }
    }

    private static String format(double v) {
        return Math.abs(v) >= 100 ? String.format("%,.0f", v) : String.format("%.3f", v);
    }

    private static void write(List<Row> rows, Path out) throws Exception {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("timestamp", java.time.Instant.now().toString());
        root.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("java", System.getProperty("java.version"));
        ArrayNode arr = root.putArray("results");
        for (Row r : rows) {
            JsonNode n = m.valueToTree(r);
            arr.add(n);
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        m.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
        System.out.println("\nresults written to " + out);
    }
}
