package dev.workflowworker.redis;

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
import java.util.Objects;

/**
 * The connection part of {@link RedisOptions}: parsing {@code redis[s]://} URIs, printing an
 * endpoint and loading trust stores, kept apart so that the options stay plain settings. No
 * message, log line or {@link #toString()} produced here contains a password.
 */
final class RedisUri {

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final int database;
    private final boolean ssl;

    private RedisUri(String host, int port, String user, String password, int database, boolean ssl) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
        this.ssl = ssl;
    }

    /**
     * @param uri {@code redis[s]://[[user]:password@]host[:port][/database]}
     * @return its parts; the port is {@link RedisOptions#DEFAULT_PORT} when absent
     * @throws IllegalArgumentException starting with {@code uri:} if it is malformed; the message
     *                                  never contains the password
     */
    static RedisUri parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        URI parsed;
        try {
            parsed = new URI(uri.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("uri: not a valid Redis URI: " + redact(uri));
        }
        String scheme = parsed.getScheme();
        if (!"redis".equalsIgnoreCase(scheme) && !"rediss".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("uri: scheme must be redis or rediss: " + redact(uri));
        }
        if (parsed.getHost() == null) {
            throw new IllegalArgumentException("uri: no host in " + redact(uri));
        }
        String user = null;
        String password = null;
        String userInfo = parsed.getRawUserInfo();
        if (userInfo != null && !userInfo.isEmpty()) {
            int colon = userInfo.indexOf(':');
            if (colon < 0) {
                // redis://secret@host is how most clients spell a password without a user.
                password = decode(userInfo);
            } else {
                user = colon == 0 ? null : decode(userInfo.substring(0, colon));
                password = decode(userInfo.substring(colon + 1));
            }
        }
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
                password == null || password.isEmpty() ? null : password, database, "rediss".equalsIgnoreCase(scheme));
    }

    private static String decode(String s) {
        // URLDecoder would turn a literal '+' into a space; in a URI's user info it is a '+'.
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /**
     * @param uri a URI, well-formed or not
     * @return the URI with its user info replaced by {@code ***}, fit for a message
     */
    static String redact(String uri) {
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

    /** @return scheme, user, host, port and database, with {@code ***} for a password */
    static String endpoint(boolean ssl, String user, boolean hasPassword, String host, int port, int database) {
        StringBuilder sb = new StringBuilder(ssl ? "rediss://" : "redis://");
        if (user != null || hasPassword) {
            sb.append(user == null ? "" : user);
            if (hasPassword) {
                sb.append(":***");
            }
            sb.append('@');
        }
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
    static SSLSocketFactory trustStoreSocketFactory(Path path, char[] password, String type) {
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

    String host() { return host; }

    int port() { return port; }

    String user() { return user; }

    String password() { return password; }

    int database() { return database; }

    boolean ssl() { return ssl; }

    @Override
    public String toString() {
        return endpoint(ssl, user, password != null, host, port, database);
    }
}
