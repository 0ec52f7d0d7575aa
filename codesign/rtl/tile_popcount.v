`timescale 1ns/1ps
`default_nettype none
// Number of ones in a vector (an adder chain; synthesis balances it).
module tile_popcount #(
    parameter integer WIDTH = 8,
    parameter integer OUT_W = 4     // >= $clog2(WIDTH + 1)
) (
    input  wire [WIDTH-1:0] bits,
    output reg  [OUT_W-1:0] count
);
    integer i;
    always @* begin
        count = {OUT_W{1'b0}};
        for (i = 0; i < WIDTH; i = i + 1)
            count = count + {{(OUT_W - 1){1'b0}}, bits[i]};
    end
endmodule
`default_nettype wire
