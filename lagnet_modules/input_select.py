"""Input selector: lets both backbone branches start from the one 6-channel input tensor."""
from torch import nn


class ChannelSlice(nn.Module):
    """x[:, start:end]: (B, C, H, W) -> (B, end − start, H, W).

    LAGNet's input is one tensor with channels 0-2 = RGB image and 3-5 = its LAM (both RGB order);
    ``[0, 1, ChannelSlice, [0, 3]]`` and ``[0, 1, ChannelSlice, [3, 6]]`` feed the two branches.
    """

    def __init__(self, c1, start, end):
        super().__init__()
        if not 0 <= start < end <= c1:
            raise ValueError(f'ChannelSlice [{start}, {end}) does not fit an input of {c1} channels')
        self.start, self.end = start, end

    def forward(self, x):
        return x[:, self.start:self.end]
