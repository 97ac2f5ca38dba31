using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    public override async Task<ImageFsInfoResponse> ImageFsInfo(ImageFsInfoRequest request, ServerCallContext context)
    {
        Crisp.ImageService.Api.FilesystemUsage usage = await images.GetImageFsUsageAsync(context.CancellationToken);
        var response = new ImageFsInfoResponse();
        response.ImageFilesystems.Add(new Crisp.Cri.V1.FilesystemUsage
        {
            Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
            FsId = new FilesystemIdentifier { Mountpoint = usage.Mountpoint },
            UsedBytes = new UInt64Value { Value = usage.UsedBytes },
            InodesUsed = new UInt64Value { Value = usage.InodesUsed },
        });
        return response;
    }
}
