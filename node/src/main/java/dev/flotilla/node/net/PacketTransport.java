package dev.flotilla.node.net;

import com.google.protobuf.UnsafeByteOperations;
import dev.flotilla.proto.PacketBatch;
import dev.flotilla.proto.PacketFrame;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Carries packets between nodes: one TCP connection per peer, length-prefixed protobuf
 * {@link PacketBatch} frames, one batch per peer per tick. Each peer has a bounded queue; what does
 * not fit is dropped and counted by reason. A lost connection is re-dialled with backoff while the
 * queue holds (up to its bound) what waits; packets written to a connection that then dies are lost
 * and counted as WRITE_FAILED (simulated networks may lose packets; they never reorder them).
 * Payload arrays are wrapped, not copied, into frames: nothing writes to a packet's payload after
 * it was sent.
 */
public final class PacketTransport implements PacketSink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PacketTransport.class);
    private static final int MAX_FRAME_BYTES = 64 << 20;
    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(2);

    /** Why the transport dropped a packet. */
    public enum Drop {
        /** The peer's queue was at its bound (peer slow or unreachable). */
        QUEUE_FULL,
        /** No address is known for the node the router named. */
        UNKNOWN_PEER,
        /** The connection failed after the batch was handed to it. */
        WRITE_FAILED
    }

    /** Counters since start. */
    public record Stats(long sent, long received, long batchesSent, long batchesReceived, long connects,
                        Map<Drop, Long> drops) {
    }

    private final String selfNode;
    private final InetSocketAddress bind;
    private final Consumer<Packet> inbound;
    private final int queueCapacity;
    private final EventLoopGroup group = new NioEventLoopGroup(1);
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final EnumMap<Drop, LongAdder> drops = new EnumMap<>(Drop.class);
    private final LongAdder sent = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder batchesSent = new LongAdder();
    private final LongAdder batchesReceived = new LongAdder();
    private final LongAdder connects = new LongAdder();
    private Channel server;

    private final class Peer {
        final String node;
        volatile InetSocketAddress address;
        final ArrayDeque<Packet> queue = new ArrayDeque<>();
        volatile Channel channel;
        volatile boolean connecting;
        long nextAttempt;
        long backoff = MIN_BACKOFF_NANOS;
        long seq;

        Peer(String node, InetSocketAddress address) {
            this.node = node;
            this.address = address;
        }
    }

    /**
     * @param inbound       receives every packet that arrives, on the transport's event-loop thread
     * @param queueCapacity packets held per peer between flushes (and while it is unreachable)
     */
    public PacketTransport(String selfNode, InetSocketAddress bind, Consumer<Packet> inbound, int queueCapacity) {
        this.selfNode = selfNode;
        this.bind = bind;
        this.inbound = inbound;
        this.queueCapacity = queueCapacity;
        for (Drop d : Drop.values()) {
            drops.put(d, new LongAdder());
        }
    }

    /** Binds the listening socket. */
    public PacketTransport start() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME_BYTES, 0, 4, 0, 4))
                                .addLast(new ProtobufDecoder(PacketBatch.getDefaultInstance()))
                                .addLast(new SimpleChannelInboundHandler<PacketBatch>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, PacketBatch batch) {
                                        receive(batch);
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        LOG.warn("packet stream from {} failed; closing it (the peer re-dials): {}",
                                                ctx.channel().remoteAddress(), cause.toString());
                                        ctx.close();
                                    }
                                });
                    }
                });
        try {
            server = b.bind(bind).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen for inter-node packets on " + bind
                    + ": " + e.getMessage() + "; free the port or set another in the node config", e);
        }
        LOG.info("node {} listens for inter-node packets on {}", selfNode, server.localAddress());
        return this;
    }

    /** The bound port (useful when bound to port 0). */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Sets or changes the address of a peer node. */
    public void setPeer(String node, InetSocketAddress address) {
        Peer p = peers.computeIfAbsent(node, n -> new Peer(n, address));
        if (!address.equals(p.address)) {
            p.address = address;
            Channel c = p.channel;
            if (c != null) {
                c.close();
            }
        }
    }

    private void receive(PacketBatch batch) {
        batchesReceived.increment();
        for (PacketFrame f : batch.getPacketsList()) {
            received.increment();
            inbound.accept(new Packet(f.getSrcIp(), f.getSrcPort(), f.getDstIp(), f.getDstPort(), f.getTtl(),
                    f.getPayload().toByteArray()));
        }
    }

    /** Queues a packet for a node; false (and counted) when it is dropped. Thread-safe. */
    @Override
    public boolean send(String node, Packet packet) {
        Peer p = peers.get(node);
        if (p == null) {
            drops.get(Drop.UNKNOWN_PEER).increment();
            return false;
        }
        synchronized (p.queue) {
            if (p.queue.size() >= queueCapacity) {
                drops.get(Drop.QUEUE_FULL).increment();
                return false;
            }
            p.queue.add(packet);
        }
        return true;
    }

    /** Sends everything queued, one batch per connected peer; dials peers that are not connected. */
    @Override
    public void flush(long tick) {
        long now = System.nanoTime();
        for (Peer p : peers.values()) {
            Channel c = p.channel;
            if (c == null || !c.isActive()) {
                maybeConnect(p, now);
                continue;
            }
            if (!c.isWritable()) {
                continue; // the socket is backed up: keep the packets queued (bounded) for a later tick
            }
            PacketBatch.Builder b;
            int n;
            synchronized (p.queue) {
                n = p.queue.size();
                if (n == 0) {
                    continue;
                }
                b = PacketBatch.newBuilder().setFromNode(selfNode).setSeq(++p.seq).setTick(tick);
                Packet pk;
                while ((pk = p.queue.poll()) != null) {
                    b.addPackets(PacketFrame.newBuilder().setSrcIp(pk.srcIp()).setSrcPort(pk.srcPort())
                            .setDstIp(pk.dstIp()).setDstPort(pk.dstPort()).setTtl(pk.ttl())
                            .setPayload(UnsafeByteOperations.unsafeWrap(pk.payload())));
                }
            }
            int count = n;
            c.writeAndFlush(b.build()).addListener(f -> {
                if (f.isSuccess()) {
                    sent.add(count);
                    batchesSent.increment();
                } else {
                    drops.get(Drop.WRITE_FAILED).add(count);
                }
            });
        }
    }

    private void maybeConnect(Peer p, long now) {
        if (p.connecting || now < p.nextAttempt) {
            return;
        }
        p.connecting = true;
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new LengthFieldPrepender(4)).addLast(new ProtobufEncoder());
                    }
                });
        ChannelFuture f = b.connect(p.address);
        f.addListener(done -> {
            p.connecting = false;
            if (done.isSuccess()) {
                p.channel = f.channel();
                p.backoff = MIN_BACKOFF_NANOS;
                connects.increment();
                LOG.info("node {} connected to peer {} at {}", selfNode, p.node, p.address);
            } else {
                p.nextAttempt = System.nanoTime() + p.backoff;
                p.backoff = Math.min(MAX_BACKOFF_NANOS, p.backoff * 2);
                LOG.debug("node {} cannot reach peer {} at {}: {}", selfNode, p.node, p.address,
                        done.cause() == null ? "?" : done.cause().toString());
            }
        });
    }

    /** Packets waiting for a peer. */
    public int queued(String node) {
        Peer p = peers.get(node);
        if (p == null) {
            return 0;
        }
        synchronized (p.queue) {
            return p.queue.size();
        }
    }

    /** Whether a connection to the peer is up. */
    public boolean connected(String node) {
        Peer p = peers.get(node);
        return p != null && p.channel != null && p.channel.isActive();
    }

    public Stats stats() {
        Map<Drop, Long> d = new EnumMap<>(Drop.class);
        drops.forEach((k, v) -> d.put(k, v.sum()));
        return new Stats(sent.sum(), received.sum(), batchesSent.sum(), batchesReceived.sum(), connects.sum(), d);
    }

    /** Closes the listening socket and every connection. */
    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        for (Peer p : peers.values()) {
            Channel c = p.channel;
            if (c != null) {
                c.close();
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
