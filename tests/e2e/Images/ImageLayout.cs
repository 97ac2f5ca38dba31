using System.Diagnostics;
using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>What crisp's image root looks like from outside: layer dirs from verbose status, leftovers, overlay views.</summary>
internal static class ImageLayout
{
    public static async Task<IReadOnlyList<string>> LayerDirsAsync(ImageService.ImageServiceClient images, string reference)
    {
        var status = await images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference }, Verbose = true });
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("layerDirs").EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    /// <summary>Unfinished downloads and snapshots: must be empty whenever no pull runs.</summary>
    public static IReadOnlyList<string> Leftovers(string imagesRoot)
    {
        var leftovers = new List<string>();
        foreach (string directory in new[] { Path.Combine(imagesRoot, "content", "ingest"), Path.Combine(imagesRoot, "snapshots", ".ingest") })
        {
            if (Directory.Exists(directory)) leftovers.AddRange(Directory.EnumerateFileSystemEntries(directory));
        }
        return leftovers;
    }

    /// <summary>Finished blobs (manifests, configs, layers) in the content store.</summary>
    public static IReadOnlyList<string> ContentBlobs(string imagesRoot) =>
        Directory.Exists(Path.Combine(imagesRoot, "content", "sha256"))
            ? Directory.EnumerateFiles(Path.Combine(imagesRoot, "content", "sha256")).ToList()
            : [];

    /// <summary>After a failed pull on a daemon that never pulled anything: no image, blob, snapshot or temp file.</summary>
    public static async Task AssertNothingStoredAsync(CrispDaemon daemon)
    {
        string imagesRoot = Path.Combine(daemon.RootDirectory, "images");
        Assert.Empty((await daemon.Images.ListImagesAsync(new ListImagesRequest())).Images);
        Assert.Empty(ContentBlobs(imagesRoot));
        Assert.Empty(Snapshots(imagesRoot));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Leftovers(imagesRoot).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Empty(Leftovers(imagesRoot));
    }

    public static IReadOnlyList<string> Snapshots(string imagesRoot) =>
        Directory.Exists(Path.Combine(imagesRoot, "snapshots"))
            ? Directory.EnumerateDirectories(Path.Combine(imagesRoot, "snapshots")).Where(d => !d.EndsWith("/.ingest", StringComparison.Ordinal)).ToList()
            : [];

    /// <summary>Mounts the layers read-only as overlayfs would for a container and runs <paramref name="inspect"/> on the merged view.</summary>
    public static async Task WithOverlayAsync(IReadOnlyList<string> layerDirs, Func<string, Task> inspect)
    {
        string mountpoint = Directory.CreateTempSubdirectory("crisp-e2e-overlay-").FullName;
        try
        {
            // Only lower layers: a read-only overlay, the upper-most layer listed first.
            string lower = string.Join(':', layerDirs.Reverse());
            if (layerDirs.Count == 1)
            {
                await ToolRunner.RunCheckedAsync("mount", ["--bind", "-o", "ro", layerDirs[0], mountpoint]);
            }
            else
            {
                await ToolRunner.RunCheckedAsync("mount", ["-t", "overlay", "overlay", "-o", $"lowerdir={lower}", mountpoint]);
            }
            try
            {
                await inspect(mountpoint);
            }
            finally
            {
                await ToolRunner.RunCheckedAsync("umount", [mountpoint]);
            }
        }
        finally
        {
            Directory.Delete(mountpoint);
        }
    }

    public static async Task<string> StatTypeAsync(string path) =>
        (await ToolRunner.RunCheckedAsync("stat", ["-c", "%F %t:%T", path])).StandardOutput.Trim();

    public static async Task<double> MedianMillisecondsAsync(int rounds, Func<Task> action)
    {
        var samples = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            var timer = Stopwatch.StartNew();
            await action();
            samples.Add(timer.Elapsed.TotalMilliseconds);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
