using System.Collections.Frozen;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// The catalogue of e2e test images. Each is built at most once per test process, on first use, into a
/// per-process temp directory that is removed when the process exits.
/// </summary>
public static class TestImages
{
    private const string RootPrefix = "crisp-e2e-images-";

    private static readonly Lazy<string> Root = new(() =>
    {
        StaleTempDirectories.Sweep(RootPrefix);
        var root = Directory.CreateTempSubdirectory($"{RootPrefix}{Environment.ProcessId}-").FullName;
        ExitCleanup.TrackDirectory(root);
        return root;
    });

    private static readonly FrozenDictionary<string, Lazy<Task<BuiltImage>>> Standard =
        TestImageNames.Standard.Append(TestImageNames.Large).ToFrozenDictionary(
            name => name,
            name => new Lazy<Task<BuiltImage>>(() => Task.Run(() => StandardImageRecipes.WriteAsync(name, LayoutDirectory(name), CancellationToken.None))));

    private static readonly FrozenDictionary<string, Lazy<Task<HostileImage>>> Hostile =
        TestImageNames.Hostile.ToFrozenDictionary(
            name => name,
            name => new Lazy<Task<HostileImage>>(() => Task.Run(() => HostileImageRecipes.WriteAsync(name, LayoutDirectory(name), CancellationToken.None))));

    /// <summary>Where this process keeps its image layouts.</summary>
    public static string CacheDirectory => Root.Value;

    public static Task<BuiltImage> Busybox => GetAsync(TestImageNames.Busybox);

    public static Task<BuiltImage> Multilayer => GetAsync(TestImageNames.Multilayer);

    public static Task<BuiltImage> Whiteouts => GetAsync(TestImageNames.Whiteouts);

    public static Task<BuiltImage> Multiplatform => GetAsync(TestImageNames.Multiplatform);

    /// <summary>~50 MiB; only built when something asks for it.</summary>
    public static Task<BuiltImage> Large => GetAsync(TestImageNames.Large);

    /// <summary>Any catalogue image by name (<see cref="TestImageNames"/>), hostile ones included.</summary>
    public static async Task<BuiltImage> GetAsync(string name)
    {
        if (Standard.TryGetValue(name, out var standard))
        {
            return await standard.Value;
        }

        if (Hostile.TryGetValue(name, out var hostile))
        {
            return (await hostile.Value).Image;
        }

        throw new ArgumentException($"no test image named '{name}' (known: {string.Join(", ", TestImageNames.All)})", nameof(name));
    }

    /// <summary>A hostile image with the host paths and links a safe unpack must not produce.</summary>
    public static Task<HostileImage> GetHostileAsync(string name) =>
        Hostile.TryGetValue(name, out var hostile)
            ? hostile.Value
            : throw new ArgumentException($"no hostile test image named '{name}' (known: {string.Join(", ", TestImageNames.Hostile)})", nameof(name));

    private static string LayoutDirectory(string name) => Path.Combine(Root.Value, name);
}
