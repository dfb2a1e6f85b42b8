package dev.flotilla.node.api;

import dev.flotilla.node.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The node's HTTP server: Netty in front of the {@link Routes}, with a body size limit that answers 413 in JSON. */
public final class HttpApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);

    private final HostPort address;
    private final Routes routes;
    private final int maxBodyBytes;
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Channel channel;

    public HttpApi(HostPort address, Routes routes, int maxBodyBytes) {
        this.address = address;
        this.routes = routes;
        this.maxBodyBytes = maxBodyBytes;
    }

    public void start() throws InterruptedException {
        boss = new NioEventLoopGroup(1);
        workers = new NioEventLoopGroup(2);
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(4096, 16384, 8192));
                        ch.pipeline().addLast(new JsonLimitAggregator(maxBodyBytes));
                        ch.pipeline().addLast(new Handler());
                    }
                });
        channel = b.bind(new InetSocketAddress(address.host(), address.port())).sync().channel();
        LOG.info("HTTP API listening on http://{}", address);
    }

    /** Answers an oversized body with 413 and a JSON body, then closes the connection. */
    private static final class JsonLimitAggregator extends HttpObjectAggregator {
        private final int limit;

        JsonLimitAggregator(int limit) {
            super(limit);
            this.limit = limit;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            Reply r = Reply.error(413, "too_large", "body",
                    "request body is larger than " + limit + " bytes; send a smaller spec (max_body_bytes in the node config)", Map.of());
            write(ctx, r, false);
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (!req.decoderResult().isSuccess()) {
                write(ctx, Reply.error(400, "bad_request", "", "malformed HTTP request: " + req.decoderResult().cause(), Map.of()), false);
                return;
            }
            CompletableFuture<Reply> reply;
            try {
                reply = routes.handle(req);
            } catch (RuntimeException e) {
                reply = CompletableFuture.completedFuture(routes.failure(e));
            }
            reply.whenComplete((r, err) -> write(ctx, err == null ? r : routes.failure(err), keepAlive));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("HTTP connection error: {}", cause.toString());
            ctx.close();
        }
    }

    private static void write(ChannelHandlerContext ctx, Reply r, boolean keepAlive) {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(r.status()), Unpooled.wrappedBuffer(r.body()));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        r.headers().forEach((k, v) -> resp.headers().set(k, v));
        if (keepAlive) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(resp);
        } else {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        if (channel != null) channel.close().syncUninterruptibly();
        if (boss != null) boss.shutdownGracefully();
        if (workers != null) workers.shutdownGracefully();
    }
}
