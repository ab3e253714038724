package dev.workflowworker.redis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP proxy in front of Redis that loses or holds the reply to a chosen request: the request
 * reaches Redis and runs, and the caller sees what a network fault would show it. Armed with a
 * text, it acts on the reply to the first request containing that text:
 * {@link #dropReplyTo} drops the reply and closes that connection (the transport resends);
 * {@link #holdReplyTo} holds it until {@link #release}, {@link #cut} or {@link #cutAndRefuse}.
 */
public final class ReplyProxy implements AutoCloseable {

    private record Arm(String text, boolean drop) {
    }

    private static final int NONE = 0;
    private static final int DROP = 1;
    private static final int HOLD = 2;

    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicReference<Arm> armed = new AtomicReference<>();
    private final AtomicInteger dropped = new AtomicInteger();
    /** Counted down when a held reply arrived: its request ran. */
    public final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch go = new CountDownLatch(1);
    private volatile boolean refuse;
    private volatile boolean cut;

    public ReplyProxy(String host, int upstreamPort) throws IOException {
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    if (refuse) {
                        client.close();
                        continue;
                    }
                    Socket upstream = new Socket(host, upstreamPort);
                    sockets.add(client);
                    sockets.add(upstream);
                    int[] pending = {NONE};
                    pump(client, upstream, pending, true);
                    pump(upstream, client, pending, false);
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "reply-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** The reply to the next request containing {@code text} is dropped and its connection closed. */
    public void dropReplyTo(String text) {
        armed.set(new Arm(text, true));
    }

    /** {@return how many replies were dropped} */
    public int dropped() {
        return dropped.get();
    }

    /** The reply to the next request containing {@code text} is held; {@link #held} says when. */
    public void holdReplyTo(String text) {
        armed.set(new Arm(text, false));
    }

    /** The held reply goes on. */
    public void release() {
        go.countDown();
    }

    /** The held reply is dropped and its connection closed; new connections are let through. */
    public void cut() {
        cut = true;
        go.countDown();
    }

    /** The held reply is dropped, its connection closed, and new connections refused: Redis is away. */
    public void cutAndRefuse() {
        refuse = true;
        cut = true;
        go.countDown();
    }

    private void pump(Socket from, Socket to, int[] pending, boolean requests) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                int n;
                while ((n = from.getInputStream().read(buf)) > 0) {
                    if (requests) {
                        Arm a = armed.get();
                        // Marked before the request goes on, so before its reply can come back.
                        if (a != null && new String(buf, 0, n, StandardCharsets.ISO_8859_1).contains(a.text())
                                && armed.compareAndSet(a, null)) {
                            synchronized (pending) {
                                pending[0] = a.drop() ? DROP : HOLD;
                            }
                        }
                    } else {
                        int p;
                        synchronized (pending) {
                            p = pending[0];
                            pending[0] = NONE;
                        }
                        if (p == DROP) {
                            dropped.incrementAndGet();
                            break;
                        }
                        if (p == HOLD) {
                            held.countDown();
                            go.await();
                            if (cut) {
                                break;
                            }
                        }
                    }
                    to.getOutputStream().write(buf, 0, n);
                    to.getOutputStream().flush();
                }
            } catch (IOException | InterruptedException e) {
                // one side closed
            }
            try {
                from.close();
                to.close();
            } catch (IOException e) {
                // already closed
            }
        }, "reply-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        go.countDown();
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
