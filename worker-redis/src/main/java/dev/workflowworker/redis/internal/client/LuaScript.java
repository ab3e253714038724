package dev.workflowworker.redis.internal.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntFunction;

/**
 * One Lua script from the classpath, run by its SHA1. Redis forgets scripts on restart or
 * {@code SCRIPT FLUSH}, and each cluster node has its own cache. The {@code NOSCRIPT} reply is
 * answered by loading the script on one server, and on a cluster by sending the source with
 * {@code EVAL}, which reaches the node that asked whichever node that is by then.
 */
public final class LuaScript {

    private static final Logger log = LoggerFactory.getLogger(LuaScript.class);
    private static final int MAX_ROUNDS = Topology.MAX_ROUNDS;

    private final String source;
    private final String sha;

    private LuaScript(String source) {
        this.source = source;
        this.sha = sha1(source);
    }

    /** @return the script's SHA1, under which Redis caches it */
    public String sha() {
        return sha;
    }

    /**
     * Loads a script; a line {@code --@include name} is replaced by the text of {@code name.lua},
     * so that scripts share helpers (Redis runs each script as one self-contained text).
     */
    public static LuaScript load(String name) {
        StringBuilder source = new StringBuilder();
        for (String line : read(name).split("\n", -1)) {
            if (line.startsWith("--@include ")) {
                source.append(read(line.substring("--@include ".length()).trim()));
            } else {
                source.append(line).append('\n');
            }
        }
        return new LuaScript(source.toString());
    }

    private static String read(String name) {
        // Absolute: the scripts stay beside the public package wherever this class lives.
        String resource = "/dev/workflowworker/redis/" + name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read script resource " + resource, e);
        }
    }

    public void loadInto(UnifiedJedis redis) {
        CommandArguments load = new CommandArguments(Protocol.Command.SCRIPT).add("LOAD").add(source);
        if (redis instanceof RedisClusterClient cluster) {
            // Every node keeps its own script cache; a node that still misses it (a replica
            // promoted since) answers NOSCRIPT, which eval answers with the source.
            try {
                cluster.broadcastCommand(new CommandObject<>(load, BuilderFactory.RAW_OBJECT));
            } catch (RuntimeException e) {
                log.debug("loading script {} on every node failed: {}", sha, e.toString());
            }
            return;
        }
        redis.executeCommand(load);
    }

    /**
     * Runs the script: by its SHA1, with the source when the node answers NOSCRIPT (restarted,
     * flushed, or a replica promoted since the script was loaded), and again after a short pause
     * when a cluster says the slot is elsewhere or migrating, which means the call did nothing.
     *
     * @param keys keys (String or byte[])
     * @param args arguments (String, byte[] or numbers)
     * @return the raw reply: Long, byte[], List or null
     */
    public Object eval(UnifiedJedis redis, List<?> keys, List<?> args) {
        boolean withSource = false;
        for (int attempt = 1; ; attempt++) {
            try {
                return redis.executeCommand(withSource ? evalArguments(keys, args) : evalshaArguments(keys, args));
            } catch (JedisDataException e) {
                if (isNoScript(e) && !withSource && attempt < MAX_ROUNDS) {
                    withSource = answerNoScript(redis);
                } else if (Topology.notRunHere(e) && attempt < MAX_ROUNDS) {
                    pauseAfterRedirect(redis, attempt);
                } else {
                    throw e;
                }
            }
        }
    }

    /**
     * Makes the next send of a call answered NOSCRIPT succeed. One server: the script is loaded
     * (SCRIPT LOAD and EVALSHA are all a restricted ACL user needs). A cluster: the call is sent
     * with its source (EVAL), which reaches the node that asked, whichever it is now.
     *
     * @return true if the next send must carry the source
     */
    private boolean answerNoScript(UnifiedJedis redis) {
        if (Topology.isCluster(redis)) {
            return true;
        }
        loadInto(redis);
        return false;
    }

    /** @return an EVALSHA of this script, for a pipeline; its reply may be NOSCRIPT (see {@link #evalAll}) */
    public CommandArguments evalshaArguments(List<?> keys, List<?> args) {
        return arguments(Protocol.Command.EVALSHA, sha, keys, args);
    }

    /** @return an EVAL of this script's source, which also caches it on the node that runs it */
    public CommandArguments evalArguments(List<?> keys, List<?> args) {
        return arguments(Protocol.Command.EVAL, source, keys, args);
    }

    /**
     * Runs the script {@code n} times in pipelined round trips: one in the usual case, one per
     * node on a cluster. A call answered NOSCRIPT is sent again with the source; one answered
     * with a redirect or TRYAGAIN/CLUSTERDOWN is sent again once the slot map is refreshed. Both
     * answers mean the call did nothing, so sending it again is safe even for scripts that must
     * never run twice; nothing is repeated after any other failure.
     *
     * @param keys the keys of call i
     * @param args the arguments of call i
     * @return the raw replies, in call order
     */
    public List<Object> evalAll(UnifiedJedis redis, int n, IntFunction<List<?>> keys, IntFunction<List<?>> args) {
        return evalAll(redis, n, keys, args, 0, 0);
    }

    /**
     * Like {@link #evalAll(UnifiedJedis, int, IntFunction, IntFunction)}, then waits until
     * {@code replicas} replicas have the calls' writes (see {@link Topology#sendAll}).
     */
    public List<Object> evalAll(UnifiedJedis redis, int n, IntFunction<List<?>> keys, IntFunction<List<?>> args,
                         int replicas, long waitMs) {
        return evalAll(redis, n, keys, args, replicas, waitMs, null);
    }

    /** Like {@link #evalAll(UnifiedJedis, int, IntFunction, IntFunction, int, long)}, each call followed by its wake. */
    public List<Object> evalAll(UnifiedJedis redis, int n, IntFunction<List<?>> keys, IntFunction<List<?>> args,
                         int replicas, long waitMs, Topology.Wakes wakes) {
        return evalEach(redis, n, keys, args, replicas, waitMs, wakes, false, null).all();
    }

    /**
     * Like {@link #evalAll(UnifiedJedis, int, IntFunction, IntFunction, int, long, Topology.Wakes)},
     * except that a cluster node that fails fails only the calls sent to it (see {@link Topology#sendEach},
     * which also says what {@code idempotent} allows).
     */
    public Replies evalEach(UnifiedJedis redis, int n, IntFunction<List<?>> keys, IntFunction<List<?>> args,
                            int replicas, long waitMs, Topology.Wakes wakes, boolean idempotent,
                            NodeHealth nodes) {
        NoScript answer = new NoScript(this, redis, n);
        return Topology.sendEach(redis, n, i -> answer.arguments(i, keys.apply(i), args.apply(i)),
                i -> String.valueOf(keys.apply(i).get(0)), answer::resend,
                replicas, waitMs, () -> "a write of " + n + " script call(s)", wakes, idempotent, nodes);
    }

    /**
     * The answer to NOSCRIPT for the script calls of one {@link Topology#sendEach}: on a cluster
     * the call is sent again with its source (a promoted replica may lack the script); on one
     * server the script is loaded once (SCRIPT LOAD and EVALSHA are all a restricted ACL user
     * needs), and a call still answered NOSCRIPT after that gets its source rather than a loop.
     */
    public static final class NoScript {
        private final LuaScript script;
        private final UnifiedJedis redis;
        private final boolean[] withSource;
        private boolean loaded;

        public NoScript(LuaScript script, UnifiedJedis redis, int calls) {
            this.script = script;
            this.redis = redis;
            this.withSource = new boolean[calls];
        }

        /** {@return call {@code i} of {@code script}: by its SHA1, or with its source once NOSCRIPT asked for it} */
        public CommandArguments arguments(int i, List<?> keys, List<?> args) {
            return withSource[i] ? script.evalArguments(keys, args) : script.evalshaArguments(keys, args);
        }

        /** {@return true to send call {@code i}, answered {@code e}, again}: only a NOSCRIPT not answered yet */
        public boolean resend(int i, JedisDataException e) {
            if (!isNoScript(e) || withSource[i]) {
                return false;
            }
            if (Topology.isCluster(redis) || loaded) {
                withSource[i] = true;
            } else {
                script.loadInto(redis);
                loaded = true;
            }
            return true;
        }
    }

    /**
     * Runs the script with a guarantee that it is never sent twice for one call, for scripts that
     * must not run again after a lost reply (a read that moves entries into a pending list). A
     * cluster client sends a command again by itself after a connection failure, a socket timeout
     * included, when the first send may have run; a pipeline does not, and {@link #evalAll}
     * resends only calls answered with a redirect or NOSCRIPT, which did nothing.
     */
    public Object evalOnce(UnifiedJedis redis, List<?> keys, List<?> args) {
        if (!Topology.isCluster(redis)) {
            return eval(redis, keys, args);
        }
        return evalAll(redis, 1, i -> keys, i -> args).get(0);
    }

    /** Runs the script once, then waits for {@code replicas} replicas as {@link #evalAll} does; without them, {@link #eval}. */
    public Object eval(UnifiedJedis redis, List<?> keys, List<?> args, int replicas, long waitMs) {
        if (replicas <= 0) {
            return eval(redis, keys, args);
        }
        return evalAll(redis, 1, i -> keys, i -> args, replicas, waitMs).get(0);
    }

    private static void pauseAfterRedirect(UnifiedJedis redis, int attempt) {
        Topology.pauseAfterRedirect(redis, attempt);
    }

    static boolean isNoScript(JedisDataException e) {
        return e instanceof JedisNoScriptException || (e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT"));
    }

    private static CommandArguments arguments(Protocol.Command command, String script, List<?> keys, List<?> args) {
        CommandArguments a = new CommandArguments(command).add(script).add(keys.size());
        for (Object key : keys) {
            a.key(key);
        }
        for (Object arg : args) {
            a.add(arg);
        }
        return a;
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 unavailable", e);
        }
    }
}
