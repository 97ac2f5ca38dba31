namespace Crisp.TestSupport.Layers;

/// <summary>
/// A scratch tree with a snapshot target and an "outside" directory holding a sentinel file, so a
/// test can prove an unpack wrote nothing beyond its target.
/// </summary>
public sealed class TempRoot : IDisposable
{
    public TempRoot()
    {
        Path = Directory.CreateTempSubdirectory("crisp-unpack-").FullName;
        Target = System.IO.Path.Combine(Path, "snapshot");
        Outside = System.IO.Path.Combine(Path, "outside");
        Directory.CreateDirectory(Target);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(System.IO.Path.Combine(Outside, "passwd"), "root:x:0:0\n");
        File.WriteAllText(System.IO.Path.Combine(Path, "x"), "sentinel\n");
        _before = Listing();
    }

    private readonly string _before;

    public string Path { get; }

    public string Target { get; }

    public string Outside { get; }

    /// <summary>Every path outside <see cref="Target"/> with its content or link target: must not change.</summary>
    public string Listing()
    {
        // Walked with lstat by hand: .NET's recursive enumeration would follow the layer's symlinks.
        var lines = new List<string>();
        var pending = new Stack<string>();
        pending.Push(Path);
        while (pending.TryPop(out string? directory))
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(directory))
            {
                if (entry == Target) continue;
                var status = Crisp.Interop.Libc.StatNoFollow(entry)!.Value;
                if (status.IsSymbolicLink) lines.Add($"{entry} -> {new FileInfo(entry).LinkTarget}");
                else if (status.IsDirectory)
                {
                    lines.Add(entry + "/");
                    pending.Push(entry);
                }
                else if (status.IsRegularFile) lines.Add($"{entry}={File.ReadAllText(entry)}");
                else lines.Add($"{entry} mode {status.Mode}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    public void AssertOutsideUnchanged() => Xunit.Assert.Equal(_before, Listing());

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
