using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>
    /// Image snapshots as image_filesystems and container writable layers as container_filesystems,
    /// separately, so the kubelet can tell image GC pressure from container disk use.
    /// </summary>
    public override async Task<ImageFsInfoResponse> ImageFsInfo(ImageFsInfoRequest request, ServerCallContext context)
    {
        Task<Crisp.ImageService.Api.FilesystemUsage> imageUsage = images.GetImageFsUsageAsync(context.CancellationToken);
        Task<Crisp.ImageService.Api.FilesystemUsage> containerUsage = images.GetContainerFsUsageAsync(context.CancellationToken);
        long timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var response = new ImageFsInfoResponse();
        response.ImageFilesystems.Add(ToCri(await imageUsage, timestamp));
        response.ContainerFilesystems.Add(ToCri(await containerUsage, timestamp));
        return response;
    }

    private static Crisp.Cri.V1.FilesystemUsage ToCri(Crisp.ImageService.Api.FilesystemUsage usage, long timestamp) => new()
    {
        Timestamp = timestamp,
        FsId = new FilesystemIdentifier { Mountpoint = usage.Mountpoint },
        UsedBytes = new UInt64Value { Value = usage.UsedBytes },
        InodesUsed = new UInt64Value { Value = usage.InodesUsed },
    };
}
