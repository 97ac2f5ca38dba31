using System.Buffers;
using System.Formats.Tar;
using System.Text;
using Crisp.Interop;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Unpack;

/// <summary>
/// Writes one layer's tar stream into an empty snapshot directory in a single pass, turning
/// OCI whiteouts into the overlayfs form. Safety rests on three rules: entry names are cleaned
/// lexically and refused if they leave the root; every parent directory is checked with lstat
/// and refused if it is a symlink (so nothing is ever resolved through a link the layer made);
/// and the final component is always created fresh (O_EXCL, mknod, symlink, link), never opened
/// through whatever was there before.
/// </summary>
internal sealed partial class LayerExtractor
{
    private const string WhiteoutPrefix = ".wh.";
    private const string WhiteoutMetaPrefix = ".wh..wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const string OpaqueXattr = "trusted.overlay.opaque";
    private const string OverlayXattrPrefix = "trusted.overlay.";
    private const string SchilyXattrPrefix = "SCHILY.xattr.";
    private const string LibarchiveXattrPrefix = "LIBARCHIVE.xattr.";
    private const uint ImplicitDirectoryMode = 0b111_101_101;
    private const uint PermissionBits = 0xFFF; // rwx for all + setuid, setgid, sticky
    private const int CopyBufferSize = 256 * 1024;

    /// <summary>Files at least this large start their writeback as soon as written (smaller ones are left to the pull's syncfs to batch).</summary>
    internal const long EarlyWritebackBytes = 1024 * 1024;

    private readonly string _root;
    private readonly ILogger _logger;
    private readonly HashSet<string> _knownDirectories = new(StringComparer.Ordinal);
    private readonly List<(string Path, DateTimeOffset Time)> _directoryTimes = [];

    public LayerExtractor(string root, ILogger logger)
    {
        _root = Path.TrimEndingDirectorySeparator(root);
        _logger = logger;
    }

    /// <summary>The tar name of the entry being written, for error messages.</summary>
    public string? CurrentEntry { get; private set; }

    public int EntryCount { get; private set; }

    public async Task ExtractAsync(Stream tar, CancellationToken cancellationToken)
    {
        var reader = new TarReader(tar, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    CurrentEntry = entry.Name;
                    EntryCount++;
                    await ApplyAsync(entry, buffer, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        CurrentEntry = null;
        // Last, because creating a directory's children changed its mtime after its own entry.
        foreach ((string path, DateTimeOffset time) in _directoryTimes)
        {
            Filesystem(path, () => Libc.SetTimesNoFollow(path, time, time));
        }
    }

    private async Task ApplyAsync(TarEntry entry, byte[] buffer, CancellationToken cancellationToken)
    {
        switch (entry.EntryType)
        {
            case TarEntryType.GlobalExtendedAttributes:
                return;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile
                or TarEntryType.Directory or TarEntryType.SymbolicLink or TarEntryType.HardLink
                or TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                break;
            default:
                throw new LayerEntryRefusedException(entry.Name, $"unsupported tar entry type {entry.EntryType}");
        }

        string[] parts = EntryPaths.Normalize(entry.Name);
        if (parts.Length == 0)
        {
            if (entry.EntryType != TarEntryType.Directory)
                throw new LayerEntryRefusedException(entry.Name, "the layer root can only be a directory");
            Filesystem(entry.Name, () => ApplyMetadata(_root, entry, isSymlink: false, isDirectory: true));
            return;
        }

        string name = parts[^1];
        if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            ApplyWhiteout(entry, parts);
            return;
        }

        string parent = EnsureParentDirectories(parts, entry.Name);
        string path = parent + "/" + name;
        string relative = string.Join('/', parts);

        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                Filesystem(entry.Name, () =>
                {
                    Libc.EntryStatus? existing = Libc.StatNoFollow(path);
                    if (existing is not { IsDirectory: true })
                    {
                        RemoveExisting(path, relative, existing);
                        Directory.CreateDirectory(path);
                    }
                    _knownDirectories.Add(relative);
                    ApplyMetadata(path, entry, isSymlink: false, isDirectory: true);
                });
                break;

            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                Filesystem(entry.Name, () => RemoveExisting(path, relative, Libc.StatNoFollow(path)));
                await WriteFileAsync(entry, path, buffer, cancellationToken).ConfigureAwait(false);
                Filesystem(entry.Name, () => ApplyMetadata(path, entry, isSymlink: false, isDirectory: false));
                break;

            case TarEntryType.SymbolicLink:
                if (string.IsNullOrEmpty(entry.LinkName) || entry.LinkName.Contains('\0'))
                    throw new LayerEntryRefusedException(entry.Name, "symlink target is empty or contains NUL");
                Filesystem(entry.Name, () =>
                {
                    RemoveExisting(path, relative, Libc.StatNoFollow(path));
                    // The target is stored verbatim: it is only ever resolved inside the container's root.
                    File.CreateSymbolicLink(path, entry.LinkName);
                    ApplyMetadata(path, entry, isSymlink: true, isDirectory: false);
                });
                break;

            case TarEntryType.HardLink:
                string target = ResolveHardLinkTarget(entry);
                if (target == path) return;
                Filesystem(entry.Name, () =>
                {
                    RemoveExisting(path, relative, Libc.StatNoFollow(path));
                    Libc.HardLink(target, path);
                    // The link's own header then sets owner, xattrs, mode and times of the shared inode, as containerd's
                    // and Docker's extractors do, so an image unpacks to the same files under every runtime.
                    ApplyMetadata(path, entry, isSymlink: false, isDirectory: false);
                });
                break;

            default: // character and block devices, fifos
                uint type = entry.EntryType switch
                {
                    TarEntryType.CharacterDevice => Libc.SIfChr,
                    TarEntryType.BlockDevice => Libc.SIfBlk,
                    _ => Libc.SIfIfo,
                };
                var posix = (PosixTarEntry)entry;
                Filesystem(entry.Name, () =>
                {
                    RemoveExisting(path, relative, Libc.StatNoFollow(path));
                    Libc.MakeNode(path, type | ((uint)entry.Mode & PermissionBits), (uint)posix.DeviceMajor, (uint)posix.DeviceMinor);
                    ApplyMetadata(path, entry, isSymlink: false, isDirectory: false);
                });
                break;
        }
    }

    /// <summary>OCI whiteouts: ".wh.NAME" hides NAME of lower layers, ".wh..wh..opq" hides all of a directory's lower content.</summary>
    private void ApplyWhiteout(TarEntry entry, string[] parts)
    {
        string name = parts[^1];
        if (name == OpaqueMarker)
        {
            string directory = EnsureDirectories(parts.AsSpan(0, parts.Length - 1), entry.Name);
            Filesystem(entry.Name, () => Libc.SetXattrNoFollow(directory, OpaqueXattr, "y"u8));
            return;
        }
        if (name.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal))
        {
            return; // aufs bookkeeping (".wh..wh.plnk" and friends) means nothing to overlayfs
        }
        string hidden = name[WhiteoutPrefix.Length..];
        if (hidden is "" or "." or "..") throw new LayerEntryRefusedException(entry.Name, "whiteout names no file");
        string parent = EnsureParentDirectories(parts, entry.Name);
        string path = parent + "/" + hidden;
        string relative = string.Join('/', parts[..^1].Append(hidden));
        Filesystem(entry.Name, () =>
        {
            RemoveExisting(path, relative, Libc.StatNoFollow(path));
            // overlayfs's whiteout is a 0:0 character device with the hidden name.
            Libc.MakeNode(path, Libc.SIfChr, 0, 0);
        });
    }

    private string EnsureParentDirectories(string[] parts, string entryName) =>
        EnsureDirectories(parts.AsSpan(0, parts.Length - 1), entryName);

    /// <summary>
    /// Walks (and creates, 0755, when missing) the directories <paramref name="components"/> name,
    /// one component at a time with lstat, refusing to pass through a symlink or a non-directory.
    /// </summary>
    private string EnsureDirectories(ReadOnlySpan<string> components, string entryName)
    {
        string path = _root;
        string relative = "";
        foreach (string component in components)
        {
            path = path + "/" + component;
            relative = relative.Length == 0 ? component : relative + "/" + component;
            if (_knownDirectories.Contains(relative)) continue;
            Libc.EntryStatus? status = Filesystem(entryName, () => Libc.StatNoFollow(path));
            if (status is null)
            {
                string created = path;
                Filesystem(entryName, () =>
                {
                    Directory.CreateDirectory(created);
                    Libc.Chmod(created, ImplicitDirectoryMode);
                });
            }
            else if (status.Value.IsSymbolicLink)
            {
                throw new LayerEntryRefusedException(entryName, $"path goes through the symlink \"{relative}\"");
            }
            else if (!status.Value.IsDirectory)
            {
                throw new LayerEntryRefusedException(entryName, $"parent \"{relative}\" is not a directory");
            }
            _knownDirectories.Add(relative);
        }
        return path;
    }

    /// <summary>The absolute path of a hard link's target, which must already exist in this layer and not be a directory.</summary>
    private string ResolveHardLinkTarget(TarEntry entry)
    {
        string[] parts;
        try
        {
            parts = EntryPaths.Normalize(entry.LinkName);
        }
        catch (LayerEntryRefusedException refused)
        {
            throw new LayerEntryRefusedException(entry.Name, $"hard link target \"{entry.LinkName}\": {refused.Reason}");
        }
        if (parts.Length == 0) throw new LayerEntryRefusedException(entry.Name, "hard link to the layer root");
        string path = _root;
        string relative = "";
        for (int i = 0; i < parts.Length; i++)
        {
            path = path + "/" + parts[i];
            relative = relative.Length == 0 ? parts[i] : relative + "/" + parts[i];
            bool last = i == parts.Length - 1;
            if (!last && _knownDirectories.Contains(relative)) continue;
            string current = path;
            Libc.EntryStatus? status = Filesystem(entry.Name, () => Libc.StatNoFollow(current));
            if (status is null)
                throw new LayerEntryRefusedException(entry.Name, $"hard link target \"{entry.LinkName}\" is not in this layer");
            if (last)
            {
                if (status.Value.IsDirectory)
                    throw new LayerEntryRefusedException(entry.Name, $"hard link target \"{entry.LinkName}\" is a directory");
            }
            else if (status.Value.IsSymbolicLink)
            {
                throw new LayerEntryRefusedException(entry.Name, $"hard link target goes through the symlink \"{relative}\"");
            }
            else if (!status.Value.IsDirectory)
            {
                throw new LayerEntryRefusedException(entry.Name, $"hard link target parent \"{relative}\" is not a directory");
            }
        }
        return path;
    }

    private void RemoveExisting(string path, string relative, Libc.EntryStatus? existing)
    {
        if (existing is null) return;
        if (existing.Value.IsDirectory)
        {
            // .NET's recursive delete unlinks symlinks it meets instead of descending through them.
            Directory.Delete(path, recursive: true);
            string prefix = relative + "/";
            _knownDirectories.RemoveWhere(known => known == relative || known.StartsWith(prefix, StringComparison.Ordinal));
        }
        else
        {
            File.Delete(path);
        }
    }

    private async Task WriteFileAsync(TarEntry entry, string path, byte[] buffer, CancellationToken cancellationToken)
    {
        // No PreallocationSize: entry.Length is the tar header's claim, and a small compressed layer
        // can claim terabytes; the file grows only by the data that actually arrives.
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, // O_EXCL: never opens through a symlink or an existing file
            Access = FileAccess.Write,
            BufferSize = 0,
        };
        FileStream file = Filesystem(entry.Name, () => new FileStream(path, options));
        await using (file.ConfigureAwait(false))
        {
            Stream? data = entry.DataStream;
            if (data is null) return;
            long written = 0;
            int filled;
            while ((filled = await FillAsync(data, buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                // Page-cache writes complete at once; on Unix an async write would only add a thread-pool hop.
                try
                {
                    file.Write(buffer, 0, filled);
                }
                catch (IOException ex)
                {
                    throw new LayerWriteException(entry.Name, ex);
                }
                written += filled;
            }
            if (written != entry.Length)
                throw new LayerEntryRefusedException(entry.Name, $"file data ends after {written} of {entry.Length} bytes");
            // The pull ends with a syncfs before the image is recorded; disk writes started now overlap
            // the rest of the download instead of all waiting for that one call.
            if (written >= EarlyWritebackBytes) StartWriteback(file, entry.Name, path);
        }
    }

    /// <summary>
    /// Reads until <paramref name="buffer"/> is full or the data ends. The decompressor hands out what one 8 KiB
    /// input buffer inflates to, so writing each read as it came cost one write(2) per ~8 KiB of every file.
    /// </summary>
    private static async ValueTask<int> FillAsync(Stream data, byte[] buffer, CancellationToken cancellationToken)
    {
        int filled = 0;
        int read;
        while (filled < buffer.Length
            && (read = await data.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }
        return filled;
    }

    private void StartWriteback(FileStream file, string entryName, string path)
    {
        try
        {
            Libc.StartWriteback(file.SafeFileHandle, path);
        }
        catch (SyscallException ex)
        {
            // Only a head start: the closing syncfs writes the file anyway and reports what fails then.
            LogWritebackNotStarted(entryName, ex.Message);
        }
    }

    private void ApplyMetadata(string path, TarEntry entry, bool isSymlink, bool isDirectory)
    {
        Libc.Lchown(path, (uint)entry.Uid, (uint)entry.Gid);
        // After lchown: changing the owner clears setuid/setgid, so the mode goes on last.
        if (!isSymlink) Libc.Chmod(path, (uint)entry.Mode & PermissionBits);
        if (entry is PaxTarEntry pax) ApplyXattrs(path, pax);
        DateTimeOffset modified = entry.ModificationTime;
        if (isDirectory) _directoryTimes.Add((path, modified));
        else Libc.SetTimesNoFollow(path, modified, modified);
    }

    private void ApplyXattrs(string path, PaxTarEntry entry)
    {
        foreach ((string key, string value) in entry.ExtendedAttributes)
        {
            string name;
            byte[] bytes;
            if (key.StartsWith(SchilyXattrPrefix, StringComparison.Ordinal))
            {
                name = key[SchilyXattrPrefix.Length..];
                if (value.Contains('\uFFFD'))
                {
                    // The tar reader hands PAX values over as UTF-8 text; a binary value (a file
                    // capability, say) arrives mangled, and writing it would be worse than leaving it out.
                    LogXattrUndecodable(entry.Name, name);
                    continue;
                }
                bytes = Encoding.UTF8.GetBytes(value);
            }
            else if (key.StartsWith(LibarchiveXattrPrefix, StringComparison.Ordinal))
            {
                // libarchive writes the name URL-encoded and the value base64: binary-safe, unlike SCHILY.
                name = Uri.UnescapeDataString(key[LibarchiveXattrPrefix.Length..]);
                try
                {
                    bytes = Convert.FromBase64String(value);
                }
                catch (FormatException)
                {
                    throw new LayerEntryRefusedException(entry.Name, $"xattr {name} is not valid base64");
                }
            }
            else
            {
                continue;
            }
            if (name.StartsWith(OverlayXattrPrefix, StringComparison.Ordinal))
            {
                // A layer must not forge overlayfs metadata (redirects, metacopy, opaque) of its own.
                LogOverlayXattrIgnored(entry.Name, name);
                continue;
            }
            try
            {
                Libc.SetXattrNoFollow(path, name, bytes);
            }
            catch (SyscallException ex) when (ex.Errno == Errno.ENOTSUP)
            {
                LogXattrUnsupported(entry.Name, name);
            }
        }
    }

    private static void Filesystem(string entryName, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LayerWriteException(entryName, ex);
        }
    }

    private static T Filesystem<T>(string entryName, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LayerWriteException(entryName, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not start writeback of layer entry {Entry} early: {Reason}")]
    private partial void LogWritebackNotStarted(string entry, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored xattr {Xattr} of layer entry {Entry}: layers may not set overlayfs attributes")]
    private partial void LogOverlayXattrIgnored(string entry, string xattr);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored xattr {Xattr} of layer entry {Entry}: its binary value cannot be read back from a SCHILY PAX record")]
    private partial void LogXattrUndecodable(string entry, string xattr);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored xattr {Xattr} of layer entry {Entry}: the filesystem does not support it")]
    private partial void LogXattrUnsupported(string entry, string xattr);
}
