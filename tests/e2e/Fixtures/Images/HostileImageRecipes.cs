using System.Formats.Tar;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// Hostile layers on top of the busybox base. Escape targets carry this process's id so a vulnerable unpack
/// leaves an unmistakable, harmless marker on the host instead of overwriting anything real.
/// </summary>
internal static class HostileImageRecipes
{
    private const string Payload = "written by a crisp hostile test image; its presence outside a rootfs is a security bug\n";

    private static string Marker(string attack) => $"crisp-hostile-{Environment.ProcessId}-{attack}";

    // Far more "../" than any real rootfs depth, so a naive join climbs all the way to "/".
    private const string Up = "../../../../../../../../../../../../../../../../";

    public static async Task<HostileImage> WriteAsync(string name, string directory, CancellationToken cancellationToken)
    {
        var (layer, attack, escaped, links) = name switch
        {
            TestImageNames.HostileDotDot => DotDot(),
            TestImageNames.HostileAbsolute => Absolute(),
            TestImageNames.HostileSymlinkEscape => SymlinkEscape(),
            TestImageNames.HostileHardlinkEscape => HardlinkEscape(),
            _ => throw new ArgumentException($"no hostile test image named '{name}' (known: {string.Join(", ", TestImageNames.Hostile)})", nameof(name)),
        };
        var image = await new OciImageBuilder(new ImageConfigSpec { Cmd = ["sh"] })
            .AddLayer(StandardImageRecipes.BaseLayer)
            .AddLayer(layer)
            .WriteLayoutAsync(directory, "latest", name, cancellationToken);
        return new HostileImage(image, attack, escaped, links);
    }

    private static (LayerBuilder, string, string[], HostileHardLink[]) DotDot()
    {
        var top = "/tmp/" + Marker("dotdot");
        var nested = "/tmp/" + Marker("dotdot-nested");
        var layer = new LayerBuilder()
            .AddRawEntry(TarEntryType.RegularFile, Up + "tmp/" + Marker("dotdot"), content: Bytes(Payload))
            .AddRawEntry(TarEntryType.RegularFile, "bin/" + Up + "tmp/" + Marker("dotdot-nested"), content: Bytes(Payload));
        return (layer, "entry names climbing out with ../", [top, nested], []);
    }

    private static (LayerBuilder, string, string[], HostileHardLink[]) Absolute()
    {
        var file = "/tmp/" + Marker("absolute");
        var directory = "/tmp/" + Marker("absolute-dir");
        var layer = new LayerBuilder()
            .AddRawEntry(TarEntryType.RegularFile, file, content: Bytes(Payload))
            .AddRawEntry(TarEntryType.Directory, directory + "/", mode: LayerBuilder.DirectoryMode)
            .AddRawEntry(TarEntryType.RegularFile, directory + "/inside.txt", content: Bytes(Payload));
        return (layer, "absolute entry names", [file, directory], []);
    }

    private static (LayerBuilder, string, string[], HostileHardLink[]) SymlinkEscape()
    {
        // A symlink entry pointing outside, then an entry written *through* it.
        var throughAbsolute = "/etc/" + Marker("symlink");
        var throughRelative = "/tmp/" + Marker("symlink-relative");
        var layer = new LayerBuilder()
            .AddSymlink("escape-etc", "/etc")
            .AddFile("escape-etc/" + Marker("symlink"), Payload)
            .AddSymlink("escape-up", Up + "tmp")
            .AddFile("escape-up/" + Marker("symlink-relative"), Payload);
        return (layer, "files written through symlinks to /etc and to ../../tmp", [throughAbsolute, throughRelative], []);
    }

    private static (LayerBuilder, string, string[], HostileHardLink[]) HardlinkEscape()
    {
        var layer = new LayerBuilder()
            .AddRawEntry(TarEntryType.HardLink, "leak-passwd", linkName: Up + "etc/passwd")
            .AddSymlink("etc-link", "/etc")
            .AddRawEntry(TarEntryType.HardLink, "leak-via-symlink", linkName: "etc-link/passwd");
        return (layer, "hard links to ../../etc/passwd and through a symlink to /etc",
            [], [new HostileHardLink("/leak-passwd", "/etc/passwd"), new HostileHardLink("/leak-via-symlink", "/etc/passwd")]);
    }

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);
}
