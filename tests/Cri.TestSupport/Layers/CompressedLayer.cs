using System.IO.Compression;
using Crisp.TestSupport.Oci;
using ZstdSharp;

namespace Crisp.TestSupport.Layers;

/// <summary>A finished layer blob and its descriptor; immutable, so one base layer can be shared by many images.</summary>
public sealed class CompressedLayer
{
    private CompressedLayer(LayerDescriptor descriptor, byte[] blob)
    {
        Descriptor = descriptor;
        Blob = blob;
    }

    public LayerDescriptor Descriptor { get; }

    public ReadOnlyMemory<byte> Blob { get; }

    public static CompressedLayer FromTar(byte[] tar, LayerCompression compression)
    {
        var diffId = Sha256Digest.Of(tar);
        var (blob, mediaType) = compression switch
        {
            LayerCompression.None => (tar, OciMediaTypes.Layer),
            LayerCompression.Gzip => (Gzip(tar), OciMediaTypes.LayerGzip),
            LayerCompression.Zstd => (Zstd(tar), OciMediaTypes.LayerZstd),
            _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown layer compression"),
        };
        return new CompressedLayer(new LayerDescriptor(mediaType, Sha256Digest.Of(blob), blob.Length, diffId, compression), blob);
    }

    private static byte[] Gzip(byte[] tar)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }

        return output.ToArray();
    }

    private static byte[] Zstd(byte[] tar)
    {
        using var compressor = new Compressor(level: 3);
        return compressor.Wrap(tar).ToArray();
    }
}
