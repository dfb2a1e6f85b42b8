package dev.flotilla.node.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The desired-state example in docs/examples is a file `flotilla apply` accepts, with the ports it promises. */
class DocsExampleTest {
    @Test
    void theGameServersExampleDeclaresFourServersWithRconOn25001To25004() throws Exception {
        Path file = Path.of("..", "docs", "examples", "game-servers.yaml");
        DesiredFile.Parsed parsed = DesiredFile.parse(file.toString(), Files.readString(file));
        DesiredFile.Parsed.Ok ok = assertInstanceOf(DesiredFile.Parsed.Ok.class, parsed, parsed.toString());
        assertEquals(List.of("game-1", "game-2", "game-3", "game-4"), ok.entries().stream().map(e -> e.jobId()).toList());
        assertEquals(List.of(25001, 25002, 25003, 25004),
                ok.entries().stream().map(e -> e.spec().getPorts(0).getHost()).toList());
    }
}
