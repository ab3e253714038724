package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.RedisOptions;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The connection part of {@link RedisOptions}: parsing {@code redis[s]://} URIs, printing an
 * endpoint and loading trust stores, kept apart so that the options stay plain settings. No
 * message, log line or {@link #toString()} produced here contains a password.
 */
public final class RedisUri {

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final int database;
    private final boolean ssl;
    /** The seed nodes ("host:port") of a {@code redis-cluster://} URI; empty for one server. */
    private final List<String> clusterNodes;

    private RedisUri(String host, int port, String user, String password, int database, boolean ssl,
                     List<String> clusterNodes) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
        this.ssl = ssl;
        this.clusterNodes = clusterNodes;
    }

    /**
     * @param uri {@code redis[s]://[[user]:password@]host[:port][/database]}
     * @return its parts; the port is {@link RedisOptions#DEFAULT_PORT} when absent
     * @throws IllegalArgumentException starting with {@code uri:} if it is malformed; the message
     *                                  never contains the password
     */
    public static RedisUri parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        String trimmed = uri.trim();
        String lower = trimmed.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("redis-cluster://") || lower.startsWith("rediss-cluster://")) {
            return parseCluster(trimmed, lower.startsWith("rediss-"));
        }
        URI parsed;
        try {
            parsed = new URI(uri.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("uri: not a valid Redis URI: " + redact(uri));
        }
        String scheme = parsed.getScheme();
        if (!"redis".equalsIgnoreCase(scheme) && !"rediss".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("uri: scheme must be redis, rediss, redis-cluster or rediss-cluster: " + redact(uri));
        }
        if (parsed.getHost() == null) {
            throw new IllegalArgumentException("uri: no host in " + redact(uri));
        }
        String[] credentials = credentials(parsed.getRawUserInfo());
        String user = credentials[0];
        String password = credentials[1];
        int database = 0;
        String path = parsed.getPath();
        if (path != null && path.length() > 1) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("uri: database must be a number in " + redact(uri));
            }
        }
        String host = parsed.getHost().startsWith("[")
                ? parsed.getHost().substring(1, parsed.getHost().length() - 1) : parsed.getHost();
        return new RedisUri(host, parsed.getPort() == -1 ? RedisOptions.DEFAULT_PORT : parsed.getPort(), user,
                password == null || password.isEmpty() ? null : password, database, "rediss".equalsIgnoreCase(scheme),
                List.of());
    }

    /**
     * {@code redis[s]-cluster://[[user]:password@]host:port[,host:port...]}: java.net.URI cannot
     * hold a list of hosts, so this form is split by hand.
     */
    private static RedisUri parseCluster(String uri, boolean ssl) {
        String rest = uri.substring(uri.indexOf("://") + 3);
        int at = rest.lastIndexOf('@');
        String[] credentials = credentials(at >= 0 ? rest.substring(0, at) : null);
        String user = credentials[0];
        String password = credentials[1];
        rest = rest.substring(at + 1);
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            String path = rest.substring(slash + 1);
            rest = rest.substring(0, slash);
            if (!path.isEmpty() && !path.equals("0")) {
                throw new IllegalArgumentException("uri: Redis Cluster has only database 0: " + redact(uri));
            }
        }
        List<String> nodes = new ArrayList<>();
        for (String part : rest.split(",")) {
            String node = part.trim();
            if (node.isEmpty()) {
                continue;
            }
            String host;
            String portText;
            if (node.startsWith("[")) {
                int close = node.indexOf(']');
                if (close < 0) {
                    throw new IllegalArgumentException("uri: malformed IPv6 address '" + node + "' in " + redact(uri));
                }
                host = node.substring(1, close);
                portText = node.length() > close + 1 && node.charAt(close + 1) == ':' ? node.substring(close + 2) : "";
            } else {
                int colon = node.lastIndexOf(':');
                host = colon < 0 ? node : node.substring(0, colon);
                portText = colon < 0 ? "" : node.substring(colon + 1);
            }
            int port = RedisOptions.DEFAULT_PORT;
            if (!portText.isEmpty()) {
                try {
                    port = Integer.parseInt(portText);
                } catch (NumberFormatException e) {
                    port = -1;
                }
                if (port < 1 || port > 65535) {
                    throw new IllegalArgumentException("uri: port must be in 1..65535 in '" + node + "' of " + redact(uri));
                }
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("uri: empty host in " + redact(uri));
            }
            nodes.add(hostPort(host, port));
        }
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("uri: no host in " + redact(uri));
        }
        String first = nodes.get(0);
        int colon = first.lastIndexOf(':');
        String host = first.substring(0, colon);
        return new RedisUri(host.startsWith("[") ? host.substring(1, host.length() - 1) : host,
                Integer.parseInt(first.substring(colon + 1)), user,
                password == null || password.isEmpty() ? null : password, 0, ssl, List.copyOf(nodes));
    }

    /** @return "host:port", with brackets around an IPv6 host */
    static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** @return {user, password} of a URI's raw user info, either null when absent */
    private static String[] credentials(String userInfo) {
        if (userInfo == null || userInfo.isEmpty()) {
            return new String[2];
        }
        int colon = userInfo.indexOf(':');
        if (colon < 0) {
            // redis://secret@host is how most clients spell a password without a user.
            return new String[] {null, decode(userInfo)};
        }
        return new String[] {colon == 0 ? null : decode(userInfo.substring(0, colon)), decode(userInfo.substring(colon + 1))};
    }

    private static String decode(String s) {
        // URLDecoder would turn a literal '+' into a space; in a URI's user info it is a '+'.
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /**
     * @param uri a URI, well-formed or not
     * @return the URI with its user info replaced by {@code ***}, fit for a message
     */
    public static String redact(String uri) {
        int scheme = uri.indexOf("://");
        int at = uri.lastIndexOf('@');
        if (scheme >= 0 && at > scheme) {
            return uri.substring(0, scheme + 3) + "***@" + uri.substring(at + 1);
        }
        if (at >= 0) {
            return "***@" + uri.substring(at + 1);
        }
        return uri;
    }

    /** @return scheme, user and seed nodes of a cluster, with {@code ***} for a password */
    public static String clusterEndpoint(boolean ssl, String user, boolean hasPassword, List<String> nodes) {
        return schemeAndUser(ssl ? "rediss-cluster://" : "redis-cluster://", user, hasPassword)
                .append(String.join(",", nodes)).toString();
    }

    private static StringBuilder schemeAndUser(String scheme, String user, boolean hasPassword) {
        StringBuilder sb = new StringBuilder(scheme);
        if (user != null || hasPassword) {
            sb.append(user == null ? "" : user);
            if (hasPassword) {
                sb.append(":***");
            }
            sb.append('@');
        }
        return sb;
    }

    /** @return scheme, user, host, port and database, with {@code ***} for a password */
    public static String endpoint(boolean ssl, String user, boolean hasPassword, String host, int port, int database) {
        StringBuilder sb = schemeAndUser(ssl ? "rediss://" : "redis://", user, hasPassword);
        sb.append(host.contains(":") ? "[" + host + "]" : host).append(':').append(port);
        if (database != 0) {
            sb.append('/').append(database);
        }
        return sb.toString();
    }

    /**
     * @return a TLS socket factory trusting the certificates of the store
     * @throws IllegalArgumentException starting with {@code trustStore:} if the store cannot be read
     */
    public static SSLSocketFactory trustStoreSocketFactory(Path path, char[] password, String type) {
        Objects.requireNonNull(path, "trustStore");
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(type == null ? KeyStore.getDefaultType() : type);
            store.load(in, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[0], tmf.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("trustStore: cannot load " + path + ": " + e.getMessage(), e);
        }
    }

    public String host() { return host; }

    public int port() { return port; }

    public String user() { return user; }

    public String password() { return password; }

    public int database() { return database; }

    public boolean ssl() { return ssl; }

    public List<String> clusterNodes() { return clusterNodes; }

    @Override
    public String toString() {
        if (!clusterNodes.isEmpty()) {
            return clusterEndpoint(ssl, user, password != null, clusterNodes);
        }
        return endpoint(ssl, user, password != null, host, port, database);
    }
}
