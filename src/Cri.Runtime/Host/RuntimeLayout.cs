using Crisp.Runtime.Api;

namespace Crisp.Runtime.Host;

/// <summary>
/// Where the lifecycle keeps its directories: persistent ones under <c>root</c> (rootfs upper dirs, pod files),
/// volatile ones under <c>state_dir</c> (bundles, which are conmon's persist dirs, shm, conmon's exit files).
/// </summary>
public sealed record RuntimeLayout(string Root, string StateDir)
{
    public static RuntimeLayout From(RuntimeOptions options) => new(options.Root, options.StateDir);

    public string SandboxesRoot => Path.Combine(Root, "sandboxes");
    public string ContainersRoot => Path.Combine(Root, "containers");
    public string SandboxesStateRoot => Path.Combine(StateDir, "sandboxes");
    public string ContainersStateRoot => Path.Combine(StateDir, "containers");

    /// <summary>conmon writes &lt;id&gt; here with the exit code; read by the exit watcher and by recovery.</summary>
    public string ExitDir => Path.Combine(StateDir, "exits");

    public string NamespacesDir => Path.Combine(StateDir, "ns");

    /// <summary>Shared read-only mounts of images used as volumes, one directory per image (volatile: gone at reboot).</summary>
    public string ImageVolumesDir => Path.Combine(StateDir, "image-volumes");

    /// <summary>Where removed directories under root wait for the background sweep (<see cref="DeferredRemoval"/>).</summary>
    public string RootTrash => Path.Combine(Root, "trash");

    /// <summary>Where removed directories under state_dir wait for the background sweep.</summary>
    public string StateTrash => Path.Combine(StateDir, "trash");

    /// <summary>A container's bundle, which is also conmon's persist dir (pid files, "exit", "oom").</summary>
    public string ContainerBundle(string containerId) => Path.Combine(ContainersStateRoot, containerId);

    /// <summary>Every directory the lifecycle writes under; created (and tightened, if an older crispd made them 0755) at start.</summary>
    public IEnumerable<string> Directories => [ExitDir, ContainersRoot, SandboxesRoot, ContainersStateRoot, SandboxesStateRoot, NamespacesDir, ImageVolumesDir, RootTrash, StateTrash];
}
