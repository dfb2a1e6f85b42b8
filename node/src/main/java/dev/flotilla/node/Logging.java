package dev.flotilla.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import org.slf4j.LoggerFactory;

/** Sets up the node's log: one readable line per event, or JSON lines with --log-format json. */
public final class Logging {
    private Logging() {}

    public static void configure(String format, String nodeId) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        ctx.putProperty("node", nodeId);
        Encoder<ILoggingEvent> encoder;
        if ("json".equals(format)) {
            JsonEncoder json = new JsonEncoder();
            json.setContext(ctx);
            json.setWithArguments(false);
            json.setWithContext(false);
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.start();
            encoder = json;
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setContext(ctx);
            text.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level " + nodeId + " %logger{0}: %msg%n");
            text.start();
            encoder = text;
        }
        ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
        out.setContext(ctx);
        out.setName("console");
        out.setEncoder(encoder);
        out.start();
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(out);
        // Ratis and Netty narrate their internals at INFO; keep the node's log to its own events.
        // FLOTILLA_RATIS_LOG_LEVEL=info (or debug) brings them back when a Raft problem needs its story.
        ctx.getLogger("org.apache.ratis").setLevel(Level.toLevel(System.getenv("FLOTILLA_RATIS_LOG_LEVEL"), Level.WARN));
        ctx.getLogger("io.netty").setLevel(Level.WARN);
        ctx.getLogger("org.apache.ratis.thirdparty").setLevel(Level.ERROR);
    }
}
