`timescale 1ns/1ps
`default_nettype none
// Performance counters and their read port. Each counter adds its increment every
// cycle (modulo 2^CNT_BITS); only the reset signal clears them, so software reads a
// counter before and after a command and takes the difference. Register map
// (addresses as in codesign.hdl.tile.COUNTER_ADDR, names as codesign.events.Events):
//   0 cycles  1 dac_settings  2 integrations  3 adc_conversions  4 update_pulses
//   5 set_pulses  6 reset_pulses  7 verify_reads  8 buffer_reads  9 buffer_writes
//  10 status: bit 0 polarity, bit 1 busy
module tile_perf #(
    parameter integer CNT_BITS = 32,
    parameter integer IW       = 16      // width of the increment inputs
) (
    input  wire                clk,
    input  wire                rst,
    input  wire [10*IW-1:0]    inc,      // counter k adds inc[k*IW +: IW]
    input  wire                polarity,
    input  wire                busy,
    input  wire [3:0]          addr,
    output reg  [CNT_BITS-1:0] rdata
);
    localparam integer N = 10;
    reg [N*CNT_BITS-1:0] cnt;

    genvar k;
    generate
        for (k = 0; k < N; k = k + 1) begin : g_cnt
            wire [CNT_BITS-1:0] step;
            if (CNT_BITS > IW) begin : g_wide
                assign step = {{(CNT_BITS - IW){1'b0}}, inc[k*IW +: IW]};
            end else begin : g_narrow
                assign step = inc[k*IW +: CNT_BITS];
            end
            always @(posedge clk) begin
                if (rst)
                    cnt[k*CNT_BITS +: CNT_BITS] <= {CNT_BITS{1'b0}};
                else
                    cnt[k*CNT_BITS +: CNT_BITS] <= cnt[k*CNT_BITS +: CNT_BITS] + step;
            end
        end
    endgenerate

    always @* begin
        if (addr < 4'd10)
            rdata = cnt[addr*CNT_BITS +: CNT_BITS];
        else if (addr == 4'd10)
            rdata = {{(CNT_BITS - 2){1'b0}}, busy, polarity};
        else
            rdata = {CNT_BITS{1'b0}};
    end
endmodule
`default_nettype wire
