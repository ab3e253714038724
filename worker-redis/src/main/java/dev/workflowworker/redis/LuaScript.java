package dev.workflowworker.redis;

import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * One Lua script from the classpath, run by its SHA1. Redis forgets scripts on restart or
 * {@code SCRIPT FLUSH}; the {@code NOSCRIPT} reply is answered by loading it again.
 */
final class LuaScript {

    private final String source;
    private final String sha;

    private LuaScript(String source) {
        this.source = source;
        this.sha = sha1(source);
    }

    /** @return the script's SHA1, under which Redis caches it */
    String sha() {
        return sha;
    }

    static LuaScript load(String name) {
        String resource = name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + resource);
            }
            return new LuaScript(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read script resource " + resource, e);
        }
    }

    void loadInto(UnifiedJedis redis) {
        redis.executeCommand(new CommandArguments(Protocol.Command.SCRIPT).add("LOAD").add(source));
    }

    /**
     * Runs the script.
     *
     * @param keys keys (String or byte[])
     * @param args arguments (String, byte[] or numbers)
     * @return the raw reply: Long, byte[], List or null
     */
    Object eval(UnifiedJedis redis, List<?> keys, List<?> args) {
        try {
            return redis.executeCommand(arguments(Protocol.Command.EVALSHA, sha, keys, args));
        } catch (JedisNoScriptException e) {
            loadInto(redis);
        } catch (JedisDataException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("NOSCRIPT")) {
                throw e;
            }
            loadInto(redis);
        }
        return redis.executeCommand(arguments(Protocol.Command.EVALSHA, sha, keys, args));
    }

    /** @return an EVALSHA of this script, for a pipeline; its reply may be NOSCRIPT (see {@link #evalAll}) */
    CommandArguments evalshaArguments(List<?> keys, List<?> args) {
        return arguments(Protocol.Command.EVALSHA, sha, keys, args);
    }

    /**
     * Runs the script {@code n} times in one pipelined round trip. A NOSCRIPT reply (Redis
     * restarted or flushed its scripts) loads the script and runs that call again on its own,
     * which is safe because a call that answered NOSCRIPT did nothing.
     *
     * @param keys the keys of call i
     * @param args the arguments of call i
     * @return the raw replies, in call order
     */
    List<Object> evalAll(UnifiedJedis redis, int n, java.util.function.IntFunction<List<?>> keys,
                         java.util.function.IntFunction<List<?>> args) {
        List<redis.clients.jedis.Response<Object>> replies = new java.util.ArrayList<>(n);
        try (redis.clients.jedis.AbstractPipeline p = redis.pipelined()) {
            for (int i = 0; i < n; i++) {
                replies.add(p.sendCommand(evalshaArguments(keys.apply(i), args.apply(i))));
            }
            p.sync();
        }
        List<Object> out = new java.util.ArrayList<>(n);
        boolean loaded = false;
        for (int i = 0; i < n; i++) {
            try {
                out.add(replies.get(i).get());
            } catch (JedisDataException e) {
                if (e.getMessage() == null || !e.getMessage().startsWith("NOSCRIPT")) {
                    throw e;
                }
                if (!loaded) {
                    loadInto(redis);
                    loaded = true;
                }
                out.add(redis.executeCommand(evalshaArguments(keys.apply(i), args.apply(i))));
            }
        }
        return out;
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
