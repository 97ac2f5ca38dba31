using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;

namespace Crisp.TestSupport.Layers;

/// <summary>
/// Builds layer tarballs entry by entry, the way a (possibly hostile) image builder would. Entries without an
/// explicit owner belong to the user running the tests, so an unprivileged unpack can apply them (lchown to
/// one's own uid and gid needs no capability); under root that is 0:0, as in real images.
/// </summary>
public sealed class LayerBuilder
{
    public static readonly DateTimeOffset DefaultTime = new(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);

    public static readonly int OwnUid = (int)Crisp.Interop.Libc.GetEffectiveUid();
    public static readonly int OwnGid = (int)Crisp.Interop.Libc.GetEffectiveGid();

    private readonly MemoryStream _tar = new();
    private readonly TarWriter _writer;

    public LayerBuilder() => _writer = new TarWriter(_tar, TarEntryFormat.Pax, leaveOpen: true);

    public LayerBuilder Directory(string name, UnixFileMode mode = (UnixFileMode)0b111_101_101, int? uid = null, int? gid = null, DateTimeOffset? mtime = null)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = mode, Uid = uid ?? OwnUid, Gid = gid ?? OwnGid, ModificationTime = mtime ?? DefaultTime });
        return this;
    }

    public LayerBuilder File(string name, string content, UnixFileMode mode = (UnixFileMode)0b110_100_100, int? uid = null, int? gid = null,
        DateTimeOffset? mtime = null, IEnumerable<KeyValuePair<string, string>>? pax = null)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name, pax ?? [])
        {
            Mode = mode,
            Uid = uid ?? OwnUid,
            Gid = gid ?? OwnGid,
            ModificationTime = mtime ?? DefaultTime,
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
        };
        _writer.WriteEntry(entry);
        return this;
    }

    public LayerBuilder Symlink(string name, string target, int? uid = null, int? gid = null)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Uid = uid ?? OwnUid, Gid = gid ?? OwnGid, ModificationTime = DefaultTime, Mode = (UnixFileMode)0x1FF });
        return this;
    }

    public LayerBuilder HardLink(string name, string target)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, Uid = OwnUid, Gid = OwnGid, ModificationTime = DefaultTime });
        return this;
    }

    public LayerBuilder Device(string name, TarEntryType type, int major, int minor, UnixFileMode mode = (UnixFileMode)0b110_110_110)
    {
        _writer.WriteEntry(new PaxTarEntry(type, name) { DeviceMajor = major, DeviceMinor = minor, Mode = mode, Uid = OwnUid, Gid = OwnGid, ModificationTime = DefaultTime });
        return this;
    }

    public LayerBuilder Fifo(string name)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, name) { Mode = (UnixFileMode)0b110_100_100, Uid = OwnUid, Gid = OwnGid, ModificationTime = DefaultTime });
        return this;
    }

    /// <summary>The finished layer: uncompressed tar, compressed blob and the descriptor/diff ID a manifest would carry.</summary>
    public Layer Build(LayerCompression compression = LayerCompression.Gzip)
    {
        _writer.Dispose();
        byte[] tar = _tar.ToArray();
        byte[] blob = Compress(tar, compression);
        string mediaType = compression switch
        {
            LayerCompression.Gzip => MediaTypes.OciLayerGzip,
            LayerCompression.Zstd => MediaTypes.OciLayerZstd,
            _ => MediaTypes.OciLayer,
        };
        return new Layer(tar, blob, new Descriptor(mediaType, Digests.Sha256Of(blob), blob.Length), Digests.Sha256Of(tar));
    }

    private static byte[] Compress(byte[] tar, LayerCompression compression)
    {
        var output = new MemoryStream();
        switch (compression)
        {
            case LayerCompression.Gzip:
                using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(tar);
                break;
            case LayerCompression.Zstd:
                using (var zstd = new ZstdSharp.CompressionStream(output, 3, leaveOpen: true)) zstd.Write(tar);
                break;
            default:
                output.Write(tar);
                break;
        }
        return output.ToArray();
    }
}
